import { isSnapshotId, isVolumeId } from '@plinth/cloud';
import type { CallContext, ListSnapshotsRequest, ListSnapshotsResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { pageCursor, pageOf } from '../paging.js';
import { isCsiSnapshot, toCsiSnapshot } from '../snapshot-view.js';

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
    const snap = (await deps.cloud.api.snapshots.get([req.snapshotId], ctx.signal)).get(req.snapshotId);
    if (!snap || (req.sourceVolumeId && snap.volumeId !== req.sourceVolumeId)) return none;
    return { entries: [{ snapshot: toCsiSnapshot(snap) }], nextToken: '' };
  }
  if (req.sourceVolumeId && !isVolumeId(req.sourceVolumeId)) return none;
  const snaps = (await deps.cloud.api.snapshots.list(deps.cloud.clusterId, { volumeId: req.sourceVolumeId || undefined }, ctx.signal)).filter(isCsiSnapshot);
  const page = pageOf(snaps, (s) => s.id, cursor, 'snapshots');
  return { entries: page.entries.map((s) => ({ snapshot: toCsiSnapshot(s) })), nextToken: page.nextToken };
}
