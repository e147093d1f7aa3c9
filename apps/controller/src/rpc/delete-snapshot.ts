import { isSnapshotId } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import type { CallContext, DeleteSnapshotRequest, DeleteSnapshotResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { deleteSnapshotOperation, type DeleteSnapshotJob } from '../ops/delete-snapshot.js';

/** DeleteSnapshot: idempotent; an id that cannot be an EBS snapshot is already "gone". */
export async function deleteSnapshot(deps: Deps, req: DeleteSnapshotRequest, ctx: CallContext): Promise<DeleteSnapshotResponse> {
  if (!req.snapshotId) throw invalidArgument('snapshot_id is required');
  if (!isSnapshotId(req.snapshotId)) return {};
  const job: DeleteSnapshotJob = { snapshotId: req.snapshotId };
  await deps.ops.run(deleteSnapshotOperation, job, ctx.deadline);
  return {};
}
