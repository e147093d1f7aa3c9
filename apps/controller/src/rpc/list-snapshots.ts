import { describeSnapshots, isSnapshotId, isVolumeId, listClusterSnapshots } from '@plinth/cloud';
import type { CallContext, ListSnapshotsRequest, ListSnapshotsResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { pageCursor, pageOf } from '../paging.js';
import { toCsiSnapshot } from '../snapshot-view.js';

const none: ListSnapshotsResponse = { entries: [], nextToken: '' };

/**
 * ListSnapshots. By snapshot_id: that snapshot, whoever made it (how
 * external-snapshotter checks a pre-provisioned VolumeSnapshotContent).
 * Otherwise this cluster's CSI snapshots, optionally of one source volume,
 * paged by Plinth itself (ordered by id; the token names the last id
 * returned, so snapshots made or deleted between pages never shift the rest).
 */
export async function listSnapshots(deps: Deps, req: ListSnapshotsRequest, ctx: CallContext): Promise<ListSnapshotsResponse> {
  const cursor = pageCursor(req, 'snapshots');
  if (req.snapshotId) {
    if (!isSnapshotId(req.snapshotId)) return none;
    const snap = (await describeSnapshots(deps.cloud.ec2, [req.snapshotId], ctx.signal)).get(req.snapshotId);
    if (!snap || (req.sourceVolumeId && snap.VolumeId !== req.sourceVolumeId)) return none;
    return { entries: [{ snapshot: toCsiSnapshot(snap) }], nextToken: '' };
  }
  if (req.sourceVolumeId && !isVolumeId(req.sourceVolumeId)) return none;
  const snaps = await listClusterSnapshots(deps.cloud.ec2, deps.cloud.clusterId, req.sourceVolumeId ? { volumeId: req.sourceVolumeId } : {}, ctx.signal);
  const page = pageOf(snaps, (s) => s.SnapshotId ?? '', cursor, 'snapshots');
  return { entries: page.entries.map((s) => ({ snapshot: toCsiSnapshot(s) })), nextToken: page.nextToken };
}
