import type { GetVolumeGroupSnapshotRequest, GetVolumeGroupSnapshotResponse } from '@plinth/csi';
import { invalidArgument, notFound } from '@plinth/errors';
import type { Deps } from '../../deps.js';
import { isGroupSnapshotId, toGroupSnapshot } from '../../group-snapshots.js';
import { groupMembers } from '../../ops/group-snapshot.js';

/** GetVolumeGroupSnapshot: the group's members as EC2 describes them now (read-only, no queue). */
export async function getVolumeGroupSnapshot(deps: Deps, req: GetVolumeGroupSnapshotRequest): Promise<GetVolumeGroupSnapshotResponse> {
  const id = req.groupSnapshotId;
  if (!id) throw invalidArgument('group_snapshot_id is required');
  if (!isGroupSnapshotId(id)) throw notFound(`group snapshot ${id} not found (not a Plinth group snapshot id)`);
  const members = await groupMembers(deps.cloud, id);
  if (members.length === 0) throw notFound(`group snapshot ${id} not found`);
  if (req.snapshotIds.length > 0) {
    const have = new Set(members.map((m) => m.id));
    const want = new Set(req.snapshotIds);
    const mismatch = [...want].filter((s) => !have.has(s)).concat([...have].filter((s) => !want.has(s)));
    if (mismatch.length > 0) throw invalidArgument(`snapshot_ids does not match group snapshot ${id} (differs in ${mismatch.join(', ')})`);
  }
  return { groupSnapshot: toGroupSnapshot(id, members) };
}
