import { TAG_GROUP_ID, TAG_SNAPSHOT_NAME, type SnapshotInfo } from '@plinth/cloud';
import type { Snapshot as CsiSnapshot } from '@plinth/csi';
import { GiB } from './capacity.js';

/** An EC2 snapshot as a CSI Snapshot: ready to use once EC2 reports it `completed`; a member of a group snapshot names its group. */
export function toCsiSnapshot(s: SnapshotInfo): CsiSnapshot {
  return {
    snapshotId: s.id,
    sourceVolumeId: s.volumeId ?? '',
    sizeBytes: (s.sizeGiB ?? 0) * GiB,
    creationTime: s.startedAt ? new Date(s.startedAt) : undefined,
    readyToUse: s.state === 'completed',
    groupSnapshotId: s.tags[TAG_GROUP_ID] ?? '',
    // SNAPSHOT_ACCESSIBILITY_CONSTRAINTS (CSI 1.13) is not advertised: an EBS snapshot is usable in every zone of its region.
    accessibleTopology: [],
  };
}

/** This cluster's CSI snapshots: those carrying a CSI snapshot name, or members of a group snapshot. */
export function isCsiSnapshot(s: SnapshotInfo): boolean {
  return s.tags[TAG_SNAPSHOT_NAME] !== undefined || s.tags[TAG_GROUP_ID] !== undefined;
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
