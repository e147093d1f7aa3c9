import {
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  type EC2Client,
  type Snapshot,
  type Volume,
} from '@aws-sdk/client-ec2';
import { TAG_CLUSTER } from '@plinth/cloud';

const live = (v: Volume): boolean => v.State !== 'deleting' && v.State !== 'deleted';

/** Every snapshot tagged with `clusterId`, as EC2 itself lists them. */
export async function clusterSnapshots(ec2: EC2Client, clusterId: string): Promise<Snapshot[]> {
  const res = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: `tag:${TAG_CLUSTER}`, Values: [clusterId] }] }));
  return res.Snapshots ?? [];
}

/** Deletes every snapshot tagged with `clusterId` (one already gone is fine); returns the ids it found. */
export async function deleteClusterSnapshots(ec2: EC2Client, clusterId: string): Promise<string[]> {
  const left = await clusterSnapshots(ec2, clusterId);
  for (const s of left) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: s.SnapshotId })).catch(() => undefined);
  return left.map((s) => s.SnapshotId!);
}

async function clusterVolumes(ec2: EC2Client, clusterId: string): Promise<Volume[]> {
  const res = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: `tag:${TAG_CLUSTER}`, Values: [clusterId] }] }));
  return (res.Volumes ?? []).filter(live);
}

/**
 * Deletes every volume tagged with `clusterId` (force-detaching first), so a
 * run leaves nothing in EC2 even when csi-sanity stopped half-way. Returns the
 * ids it had to delete.
 */
export async function deleteClusterVolumes(ec2: EC2Client, clusterId: string, timeoutMs = 60_000): Promise<string[]> {
  const left = await clusterVolumes(ec2, clusterId);
  for (const v of left) {
    for (const a of v.Attachments ?? []) {
      if (a.State === 'detached') continue;
      await ec2.send(new DetachVolumeCommand({ VolumeId: v.VolumeId, InstanceId: a.InstanceId, Force: true })).catch(() => undefined);
    }
  }
  const end = Date.now() + timeoutMs;
  let pending = left.map((v) => v.VolumeId!);
  while (pending.length > 0 && Date.now() < end) {
    const next: string[] = [];
    for (const id of pending) {
      try {
        await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
      } catch (err) {
        if ((err as { name?: string }).name !== 'InvalidVolume.NotFound') next.push(id);
      }
    }
    pending = next;
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 500));
  }
  if (pending.length > 0) throw new Error(`could not delete ${pending.join(', ')} within ${timeoutMs / 1000} s`);
  return left.map((v) => v.VolumeId!);
}
