import { isVolumeId } from '@plinth/cloud';
import { invalidArgument, notFound } from '@plinth/errors';
import type { CallContext, CreateSnapshotRequest, CreateSnapshotResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { refuseNodeLocal } from '../node-local.js';
import { createSnapshotOperation, type CreateSnapshotJob } from '../ops/create-snapshot.js';
import { fromSnapshotResult } from '../snapshot-view.js';
import { FAST_RESTORE_ZONES, parseSnapshotParams } from '../params/snapshot-params.js';
import { requireName } from './ids.js';
import { checkCopyRegion } from '../copy-region.js';

/**
 * CreateSnapshot: arguments validated here, the EC2 work runs as a job keyed
 * by the name. Answers as soon as EC2 has started the snapshot, with
 * ready_to_use false while it is pending; the CO calls again until it is true.
 */
export async function createSnapshot(deps: Deps, req: CreateSnapshotRequest, ctx: CallContext): Promise<CreateSnapshotResponse> {
  const name = requireName(req.name);
  if (!req.sourceVolumeId) throw invalidArgument('source_volume_id is required');
  refuseNodeLocal(req.sourceVolumeId, 'snapshotted', 'source_volume_id');
  if (!isVolumeId(req.sourceVolumeId)) throw notFound(`source volume ${req.sourceVolumeId} not found (not an EBS volume id)`);
  const params = parseSnapshotParams(req.parameters, deps.config.AWS_REGION);
  if (params.fastRestoreZones.length > 0) await checkFastRestoreZones(deps, params.fastRestoreZones);
  if (params.copy) await checkCopyRegion(deps.cloud.api, params.copy.region);
  const job: CreateSnapshotJob = { name, sourceVolumeId: req.sourceVolumeId, params };
  const res = await deps.ops.run(createSnapshotOperation, job, ctx.deadline);
  return { snapshot: fromSnapshotResult(res) };
}

/** Fast snapshot restore zones must be zones of the region (INVALID_ARGUMENT naming the others), as aws-ebs-csi-driver checks. */
async function checkFastRestoreZones(deps: Deps, zones: string[]): Promise<void> {
  const known = (await deps.cloud.api.zones.list({ all: true })).map((z) => z.name);
  const unknown = zones.filter((z) => !known.includes(z));
  if (unknown.length > 0)
    throw invalidArgument(
      `parameter ${FAST_RESTORE_ZONES}: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not zones' : 'is not a zone'} of this region (${known.join(', ')})`,
    );
}
