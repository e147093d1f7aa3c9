import {
  CopySnapshotCommand,
  CopyVolumesCommand,
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeFastSnapshotRestoresCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EnableFastSnapshotRestoresCommand,
  type CopySnapshotCommandInput,
  type CopyVolumesCommandInput,
  type CreateSnapshotCommandInput,
  type Filter,
  type Snapshot,
  type Volume,
} from '@aws-sdk/client-ec2';
import { failedPrecondition, unimplemented } from '@plinth/errors';
import { unsupportedAsUnimplemented } from '../errors.js';
import { TAG_CLUSTER } from '../tags.js';
import type { Ec2 } from './ec2.js';

const FILTER_CHUNK = 200;

async function describeSnapshotsPaged(ec2: Ec2, filters: Filter[], what: string, opts: { ownerSelf?: boolean }, signal?: AbortSignal): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  let token: string | undefined;
  do {
    const res = await ec2.send(
      'DescribeSnapshots',
      what,
      (s) =>
        ec2.client.send(
          new DescribeSnapshotsCommand({ Filters: filters, ...(opts.ownerSelf ? { OwnerIds: ['self'] } : {}), ...(token ? { NextToken: token } : {}) }),
          { abortSignal: s },
        ),
      signal,
    );
    out.push(...(res.Snapshots ?? []));
    token = res.NextToken;
  } while (token);
  return out;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Snapshots by id, any owner the account may read. Ids not found are simply absent (a filter, so one bad id never fails the call). */
export async function describeSnapshots(ec2: Ec2, ids: string[], signal?: AbortSignal): Promise<Map<string, Snapshot>> {
  const found = new Map<string, Snapshot>();
  for (const part of chunks([...new Set(ids)], FILTER_CHUNK)) {
    const snaps = await describeSnapshotsPaged(ec2, [{ Name: 'snapshot-id', Values: part }], `snapshots ${part.join(',')}`, {}, signal);
    for (const s of snaps) if (s.SnapshotId && part.includes(s.SnapshotId)) found.set(s.SnapshotId, s);
  }
  return found;
}

/** This cluster's snapshots carrying the tag `key` with one of `values`, grouped by value. */
export async function findSnapshotsByTag(ec2: Ec2, clusterId: string, key: string, values: string[], signal?: AbortSignal): Promise<Map<string, Snapshot[]>> {
  const found = new Map<string, Snapshot[]>();
  for (const part of chunks([...new Set(values)], FILTER_CHUNK)) {
    const snaps = await describeSnapshotsPaged(
      ec2,
      [
        { Name: `tag:${key}`, Values: part },
        { Name: `tag:${TAG_CLUSTER}`, Values: [clusterId] },
      ],
      `snapshots tagged ${key}=${part.join(',')}`,
      { ownerSelf: true },
      signal,
    );
    for (const s of snaps) {
      const value = s.Tags?.find((t) => t.Key === key)?.Value;
      if (value === undefined || !part.includes(value)) continue;
      found.set(value, [...(found.get(value) ?? []), s]);
    }
  }
  return found;
}

/** Every snapshot tagged with this cluster's id, or only those of one source volume (as EC2 filters; callers check what matters). */
export async function clusterSnapshots(ec2: Ec2, clusterId: string, opts: { volumeId?: string | undefined } = {}, signal?: AbortSignal): Promise<Snapshot[]> {
  const filters: Filter[] = [{ Name: `tag:${TAG_CLUSTER}`, Values: [clusterId] }];
  if (opts.volumeId) filters.push({ Name: 'volume-id', Values: [opts.volumeId] });
  return describeSnapshotsPaged(ec2, filters, `snapshots of cluster ${clusterId}${opts.volumeId ? ` from ${opts.volumeId}` : ''}`, { ownerSelf: true }, signal);
}

/** CreateSnapshot; EC2 answers at once with the snapshot `pending`. */
export async function createSnapshot(ec2: Ec2, input: CreateSnapshotCommandInput, what: string, signal?: AbortSignal): Promise<Snapshot> {
  return ec2.send('CreateSnapshot', what, (s) => ec2.client.send(new CreateSnapshotCommand(input), { abortSignal: s }), signal);
}

export async function deleteSnapshot(ec2: Ec2, snapshotId: string, signal?: AbortSignal): Promise<void> {
  await ec2.send(
    'DeleteSnapshot',
    `snapshot ${snapshotId}`,
    (s) => ec2.client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }), { abortSignal: s }),
    signal,
  );
}

/**
 * CopySnapshot, sent to the destination region's client (SourceRegion names where the snapshot is); answers the
 * copy's id. For an encrypted source the SDK signs the PresignedUrl EC2 needs itself.
 */
export async function copySnapshot(ec2: Ec2, input: CopySnapshotCommandInput, what: string, signal?: AbortSignal): Promise<string> {
  const res = await ec2.send('CopySnapshot', what, (s) => ec2.client.send(new CopySnapshotCommand(input), { abortSignal: s }), signal);
  if (!res.SnapshotId) throw unimplemented(`CopySnapshot for ${what} answered without a snapshot id`);
  return res.SnapshotId;
}

/** Volumes created from a snapshot (any state; callers judge `State`). */
export async function volumesFromSnapshot(ec2: Ec2, snapshotId: string, signal?: AbortSignal): Promise<Volume[]> {
  const out: Volume[] = [];
  let token: string | undefined;
  do {
    const res = await ec2.send(
      'DescribeVolumes',
      `volumes from snapshot ${snapshotId}`,
      (s) =>
        ec2.client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'snapshot-id', Values: [snapshotId] }], ...(token ? { NextToken: token } : {}) }), {
          abortSignal: s,
        }),
      signal,
    );
    out.push(...(res.Volumes ?? []).filter((v) => v.SnapshotId === snapshotId));
    token = res.NextToken;
  } while (token);
  return out;
}

/**
 * CopyVolumes: a point-in-time copy of a volume in its own zone, in one call.
 * UNIMPLEMENTED when the endpoint does not offer it (LocalStack does not).
 */
export async function copyVolume(ec2: Ec2, input: CopyVolumesCommandInput, what: string, signal?: AbortSignal): Promise<Volume> {
  const res = await ec2.send(
    'CopyVolumes',
    what,
    (s) => unsupportedAsUnimplemented('CopyVolumes', () => ec2.client.send(new CopyVolumesCommand(input), { abortSignal: s })),
    signal,
  );
  const v = res.Volumes?.[0];
  if (!v?.VolumeId) throw unimplemented(`CopyVolumes for ${what} answered without a volume`);
  return v;
}

/** Zones where fast snapshot restore is enabled or being enabled for the snapshot. UNIMPLEMENTED where EC2 lacks the API. */
export async function fastRestoreZones(ec2: Ec2, snapshotId: string, signal?: AbortSignal): Promise<string[]> {
  const res = await ec2.send(
    'DescribeFastSnapshotRestores',
    `fast snapshot restores of ${snapshotId}`,
    (s) =>
      unsupportedAsUnimplemented('DescribeFastSnapshotRestores', () =>
        ec2.client.send(new DescribeFastSnapshotRestoresCommand({ Filters: [{ Name: 'snapshot-id', Values: [snapshotId] }] }), { abortSignal: s }),
      ),
    signal,
  );
  return (res.FastSnapshotRestores ?? [])
    .filter((f) => f.SnapshotId === snapshotId && (f.State === 'enabled' || f.State === 'enabling' || f.State === 'optimizing'))
    .map((f) => f.AvailabilityZone ?? '')
    .filter(Boolean);
}

/**
 * Enables fast snapshot restore for the snapshot in `zones`. UNIMPLEMENTED
 * where EC2 lacks the API; FAILED_PRECONDITION naming each zone EC2 refused.
 */
export async function enableFastRestores(ec2: Ec2, snapshotId: string, zones: string[], signal?: AbortSignal): Promise<void> {
  const res = await ec2.send(
    'EnableFastSnapshotRestores',
    `snapshot ${snapshotId}`,
    (s) =>
      unsupportedAsUnimplemented('EnableFastSnapshotRestores', () =>
        ec2.client.send(new EnableFastSnapshotRestoresCommand({ SourceSnapshotIds: [snapshotId], AvailabilityZones: zones }), { abortSignal: s }),
      ),
    signal,
  );
  const refused = (res.Unsuccessful ?? []).flatMap((u) =>
    (u.FastSnapshotRestoreStateErrors ?? []).map((e) => `${e.AvailabilityZone}: ${e.Error?.Code ?? 'error'} ${e.Error?.Message ?? ''}`.trim()),
  );
  if (refused.length > 0) throw failedPrecondition(`EC2 refused fast snapshot restore for snapshot ${snapshotId} (${refused.join('; ')})`);
}
