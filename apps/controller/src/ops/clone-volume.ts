import { setTimeout as sleep } from 'node:timers/promises';
import {
  causeCode,
  copyVolume,
  createSnapshot,
  deleteSnapshot,
  describeSnapshots,
  external,
  findSnapshotsByTag,
  TAG_CLUSTER,
  type Ec2,
  type Ec2Snapshot,
  type Volume,
} from '@plinth/cloud';
import { failedPrecondition, invalidArgument, isPlinthError, notFound, unavailable } from '@plinth/errors';
import type { OpContext } from '@plinth/queue';
import type { Cloud } from '../cloud.js';

/** On the intermediate snapshot of a clone: the CSI name of the volume it is for (how a retried clone finds it, and how it is cleaned up). */
export const TAG_CLONE_FOR = 'plinth.dev/clone-for';

/** A CreateVolume request as the clone is made with it (size, type, zone, tags…). */
export type VolumeInput = Parameters<Ec2['createVolume']>[0];

/** What the controller has learnt of its EC2 endpoint. */
export interface Cloner {
  /** False once EC2 said it does not offer CopyVolumes (LocalStack does not): clones go through a snapshot. */
  copyVolumes: boolean;
}

const nameOf = (input: VolumeInput): string => input.TagSpecifications?.[0]?.Tags?.find((t) => t.Key === 'Name')?.Value ?? '?';

/**
 * Starts a clone of `sourceId` made as `input` describes (in the source's
 * zone): one CopyVolumes call where EC2 offers it, else a snapshot of the
 * source (tagged with the clone's name, so a retry finds it) and a volume
 * restored from it. The intermediate snapshot is removed by
 * removeCloneSnapshots once the clone is available.
 */
export async function cloneVolume(cloud: Cloud, cloner: Cloner, sourceId: string, input: VolumeInput, ctx: OpContext): Promise<Volume> {
  const name = nameOf(input);
  const src = await cloud.volumes.get(sourceId);
  if (!src || src.State === 'deleting' || src.State === 'deleted' || src.State === 'error') throw notFound(`source volume ${sourceId} not found`);
  if (src.AvailabilityZone !== input.AvailabilityZone)
    throw invalidArgument(`source volume ${sourceId} is in zone ${src.AvailabilityZone}, not ${input.AvailabilityZone}; a clone is made in its source's zone`);
  if (cloner.copyVolumes) {
    try {
      return await copyVolume(
        cloud.ec2,
        {
          SourceVolumeId: sourceId,
          Size: input.Size,
          VolumeType: input.VolumeType,
          Iops: input.Iops,
          Throughput: input.Throughput,
          MultiAttachEnabled: input.MultiAttachEnabled,
          Encrypted: input.Encrypted,
          KmsKeyId: input.KmsKeyId,
          ClientToken: input.ClientToken,
          TagSpecifications: input.TagSpecifications,
        },
        `clone "${name}" of volume ${sourceId}`,
        ctx.signal,
      );
    } catch (err) {
      if (!isPlinthError(err) || err.kind !== 'Unimplemented') throw err;
      cloner.copyVolumes = false;
      ctx.log.info({ sourceId }, 'this EC2 endpoint does not offer CopyVolumes; cloning through an intermediate snapshot from now on');
    }
  }
  const snap = await intermediateSnapshot(cloud, name, sourceId, ctx);
  const done = await snapshotCompleted(cloud.ec2, snap.SnapshotId!, ctx, async (failed) => {
    await deleteSnapshot(cloud.ec2, failed, ctx.signal).catch(() => undefined);
    throw unavailable(`intermediate snapshot ${failed} of volume ${sourceId} failed in EC2; retrying the clone`);
  });
  return cloud.ec2.createVolume({ ...input, SnapshotId: done.SnapshotId }, `clone "${name}" of volume ${sourceId}`, ctx.signal);
}

/** The clone's intermediate snapshot: the one a previous attempt started, or a new one, tagged in the same call. */
async function intermediateSnapshot(cloud: Cloud, name: string, sourceId: string, ctx: OpContext): Promise<Ec2Snapshot> {
  const found = (await findSnapshotsByTag(cloud.ec2, cloud.clusterId, TAG_CLONE_FOR, [name], ctx.signal)).get(name) ?? [];
  let keep: Ec2Snapshot | undefined;
  for (const s of found) {
    if (!keep && s.VolumeId === sourceId && s.State !== 'error') keep = s;
    // Left by an attempt for another source, failed, or a duplicate: of no use.
    else await deleteIfThere(cloud.ec2, s.SnapshotId!, ctx);
  }
  if (keep) return keep;
  const snap = await createSnapshot(
    cloud.ec2,
    {
      VolumeId: sourceId,
      Description: `Plinth: intermediate snapshot for the clone "${name}" of ${sourceId}; deleted once the clone exists`,
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: [
            { Key: TAG_CLONE_FOR, Value: name },
            { Key: TAG_CLUSTER, Value: cloud.clusterId },
            { Key: 'Name', Value: `clone of ${sourceId} for ${name}`.slice(0, 256) },
          ],
        },
      ],
    },
    `intermediate snapshot of volume ${sourceId} for the clone "${name}"`,
    ctx.signal,
  );
  ctx.log.info({ snapshotId: snap.SnapshotId, sourceId, name }, 'intermediate snapshot for a clone started');
  return snap;
}

/** Deletes the intermediate snapshots of the clone `name` (once the clone exists, or when they are of no use). */
export async function removeCloneSnapshots(cloud: Cloud, name: string, ctx: OpContext): Promise<void> {
  const found = (await findSnapshotsByTag(cloud.ec2, cloud.clusterId, TAG_CLONE_FOR, [name], ctx.signal)).get(name) ?? [];
  for (const s of found) await deleteIfThere(cloud.ec2, s.SnapshotId!, ctx);
}

async function deleteIfThere(ec2: Ec2, snapshotId: string, ctx: OpContext): Promise<void> {
  try {
    await deleteSnapshot(ec2, snapshotId, ctx.signal);
    ctx.log.info({ snapshotId }, 'intermediate snapshot deleted');
  } catch (err) {
    if (causeCode(err) !== 'InvalidSnapshot.NotFound') throw err;
  }
}

/** Before restoring from a snapshot: NOT_FOUND if it is gone, FAILED_PRECONDITION if it failed; waits while it is still pending. */
export async function restoreReady(cloud: Cloud, snapshotId: string, ctx: OpContext): Promise<void> {
  await snapshotCompleted(cloud.ec2, snapshotId, ctx, (failed) => Promise.reject(failedPrecondition(`snapshot ${failed} failed in EC2 (state error); it cannot be restored`)));
}

/** Waits until EC2 reports the snapshot `completed` (polling, 250 ms doubling to 5 s); `onError` decides what a failed one means. */
async function snapshotCompleted(ec2: Ec2, snapshotId: string, ctx: OpContext, onError: (id: string) => Promise<never>): Promise<Ec2Snapshot> {
  return external(async () => {
    let delay = 250;
    for (;;) {
      const s = (await describeSnapshots(ec2, [snapshotId], ctx.signal)).get(snapshotId);
      if (!s) throw notFound(`snapshot ${snapshotId} not found`);
      if (s.State === 'completed') return s;
      if (s.State === 'error') return onError(snapshotId);
      await sleep(delay, undefined, { signal: ctx.signal });
      delay = Math.min(5000, delay * 2);
    }
  });
}
