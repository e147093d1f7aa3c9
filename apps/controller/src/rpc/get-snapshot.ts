import { isSnapshotId } from '@plinth/cloud';
import { invalidArgument, notFound } from '@plinth/errors';
import type { CallContext, GetSnapshotRequest, GetSnapshotResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { toCsiSnapshot } from '../snapshot-view.js';

/** GetSnapshot: any snapshot the account can read, by id (a pre-provisioned one too); NOT_FOUND when there is none. */
export async function getSnapshot(deps: Deps, req: GetSnapshotRequest, ctx: CallContext): Promise<GetSnapshotResponse> {
  if (!req.snapshotId) throw invalidArgument('snapshot_id is required');
  if (!isSnapshotId(req.snapshotId)) throw notFound(`snapshot ${req.snapshotId} not found (not an EBS snapshot id)`);
  const snap = (await deps.cloud.api.snapshots.get([req.snapshotId], ctx.signal)).get(req.snapshotId);
  if (!snap) throw notFound(`snapshot ${req.snapshotId} not found`);
  return { snapshot: toCsiSnapshot(snap) };
}
