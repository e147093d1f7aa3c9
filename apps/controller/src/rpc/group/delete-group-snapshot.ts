import type { CallContext, DeleteVolumeGroupSnapshotRequest, DeleteVolumeGroupSnapshotResponse } from '@plinth/csi';
import { invalidArgument } from '@plinth/errors';
import type { Deps } from '../../deps.js';
import { isGroupSnapshotId } from '../../group-snapshots.js';
import { deleteGroupSnapshotOperation, type DeleteGroupSnapshotJob } from '../../ops/group-snapshot.js';

/** DeleteVolumeGroupSnapshot: deletes every member through the queue; an unknown group is already deleted. */
export async function deleteVolumeGroupSnapshot(
  deps: Deps,
  req: DeleteVolumeGroupSnapshotRequest,
  ctx: CallContext,
): Promise<DeleteVolumeGroupSnapshotResponse> {
  const groupId = req.groupSnapshotId;
  if (!groupId) throw invalidArgument('group_snapshot_id is required');
  if (!isGroupSnapshotId(groupId)) return {};
  const job: DeleteGroupSnapshotJob = { groupId, snapshotIds: [...new Set(req.snapshotIds)] };
  await deps.ops.run(deleteGroupSnapshotOperation, job, ctx.deadline);
  return {};
}
