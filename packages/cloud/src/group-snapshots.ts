import { CreateSnapshotCommand, CreateSnapshotsCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, type Snapshot, type SnapshotInfo, type Tag } from '@aws-sdk/client-ec2';
import type { Ec2 } from './ec2.js';
import { causeCode } from './errors.js';

export type { Snapshot, SnapshotInfo };

export interface InstanceSnapshotsInput {
  instanceId: string;
  /** Volumes attached to the instance that must not be snapshotted. */
  excludeDataVolumeIds: string[];
  excludeBootVolume: boolean;
  tags: Tag[];
  description: string;
}

/**
 * EC2 CreateSnapshots: crash-consistent snapshots of several volumes attached
 * to one instance, taken at the same point in time, tagged in the same call.
 */
export async function createInstanceSnapshots(ec2: Ec2, input: InstanceSnapshotsInput, signal?: AbortSignal): Promise<SnapshotInfo[]> {
  const res = await ec2.send(
    'CreateSnapshots',
    `snapshots of instance ${input.instanceId}`,
    (s) =>
      ec2.client.send(
        new CreateSnapshotsCommand({
          InstanceSpecification: {
            InstanceId: input.instanceId,
            ExcludeBootVolume: input.excludeBootVolume,
            ...(input.excludeDataVolumeIds.length > 0 ? { ExcludeDataVolumeIds: input.excludeDataVolumeIds } : {}),
          },
          Description: input.description,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: input.tags }],
        }),
        { abortSignal: s },
      ),
    signal,
  );
  return res.Snapshots ?? [];
}

/** This account's snapshots carrying tag `key` = `value` (all pages). */
export async function snapshotsTagged(ec2: Ec2, key: string, value: string, signal?: AbortSignal): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  let token: string | undefined;
  do {
    const res = await ec2.send(
      'DescribeSnapshots',
      `snapshots tagged ${key}=${value}`,
      (s) =>
        ec2.client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: `tag:${key}`, Values: [value] }], ...(token ? { NextToken: token } : {}) }), {
          abortSignal: s,
        }),
      signal,
    );
    for (const snap of res.Snapshots ?? []) if (snap.Tags?.some((t) => t.Key === key && t.Value === value)) out.push(snap);
    token = res.NextToken;
  } while (token);
  return out;
}

/** EC2 CreateSnapshot of one volume, tagged in the same call. */
export async function createVolumeSnapshot(ec2: Ec2, volumeId: string, tags: Tag[], description: string, signal?: AbortSignal): Promise<Snapshot> {
  return ec2.send(
    'CreateSnapshot',
    `snapshot of volume ${volumeId}`,
    (s) => ec2.client.send(new CreateSnapshotCommand({ VolumeId: volumeId, Description: description, TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }] }), { abortSignal: s }),
    signal,
  );
}

/** EC2 DeleteSnapshot; a snapshot already gone is success. */
export async function deleteSnapshotIfExists(ec2: Ec2, snapshotId: string, signal?: AbortSignal): Promise<void> {
  try {
    await ec2.send('DeleteSnapshot', `snapshot ${snapshotId}`, (s) => ec2.client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }), { abortSignal: s }), signal);
  } catch (err) {
    if (causeCode(err) === 'InvalidSnapshot.NotFound') return;
    throw err;
  }
}
