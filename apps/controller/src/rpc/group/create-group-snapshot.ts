import { isVolumeId } from '@plinth/cloud';
import type { CallContext, CreateVolumeGroupSnapshotRequest, CreateVolumeGroupSnapshotResponse } from '@plinth/csi';
import { invalidArgument, notFound } from '@plinth/errors';
import type { Deps } from '../../deps.js';
import { refuseNodeLocal } from '../../node-local.js';
import { groupSnapshotId, parseGroupParams, toGroupSnapshot } from '../../group-snapshots.js';
import { createGroupSnapshotOperation, type CreateGroupSnapshotJob } from '../../ops/group-snapshot.js';
import { requireName } from '../ids.js';

/**
 * CreateVolumeGroupSnapshot: crash-consistent snapshots of several volumes,
 * as one queue job keyed by the group's name. Answers at once with
 * ready_to_use false while EC2 is still copying; the CO asks again.
 */
export async function createVolumeGroupSnapshot(
  deps: Deps,
  req: CreateVolumeGroupSnapshotRequest,
  ctx: CallContext,
): Promise<CreateVolumeGroupSnapshotResponse> {
  const name = requireName(req.name);
  if (req.sourceVolumeIds.length === 0) throw invalidArgument('source_volume_ids is required');
  const volumeIds = [...new Set(req.sourceVolumeIds)].sort();
  for (const id of volumeIds) {
    if (!id) throw invalidArgument('source_volume_ids must not contain an empty id');
    refuseNodeLocal(id, 'snapshotted', 'source_volume_ids');
    if (!isVolumeId(id)) throw notFound(`source volume ${id} not found (not an EBS volume id)`);
  }
  const tags = parseGroupParams(req.parameters);
  const groupId = groupSnapshotId(deps.config.PLINTH_CLUSTER_ID, name);
  const job: CreateGroupSnapshotJob = { name, groupId, volumeIds, tags };
  const members = await deps.ops.run(createGroupSnapshotOperation, job, ctx.deadline);
  return { groupSnapshot: toGroupSnapshot(groupId, members) };
}
