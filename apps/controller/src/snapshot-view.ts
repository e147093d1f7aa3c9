import { TAG_GROUP_ID, type Ec2Snapshot } from '@plinth/cloud';
import type { Snapshot as CsiSnapshot } from '@plinth/csi';
import { GiB } from './capacity.js';

/** An EC2 snapshot as a CSI Snapshot: ready to use once EC2 reports it `completed`; a member of a group snapshot names its group. */
export function toCsiSnapshot(s: Ec2Snapshot): CsiSnapshot {
  return {
    snapshotId: s.SnapshotId ?? '',
    sourceVolumeId: s.VolumeId ?? '',
    sizeBytes: (s.VolumeSize ?? 0) * GiB,
    creationTime: s.StartTime ? new Date(s.StartTime) : undefined,
    readyToUse: s.State === 'completed',
    groupSnapshotId: s.Tags?.find((t) => t.Key === TAG_GROUP_ID)?.Value ?? '',
  };
}

/** A CSI Snapshot as a job result carries it (JSON: the time as epoch ms). */
export type SnapshotResult = Omit<CsiSnapshot, 'creationTime'> & { creationMs: number | null };

export function snapshotResult(s: CsiSnapshot): SnapshotResult {
  const { creationTime, ...rest } = s;
  return { ...rest, creationMs: creationTime ? creationTime.getTime() : null };
}

export function fromSnapshotResult(r: SnapshotResult): CsiSnapshot {
  const { creationMs, ...rest } = r;
  return { ...rest, creationTime: creationMs === null ? undefined : new Date(creationMs) };
}

