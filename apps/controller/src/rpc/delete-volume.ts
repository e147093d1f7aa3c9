import { isNodeLocalHandle, isVolumeId } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import type { CallContext, DeleteVolumeRequest, DeleteVolumeResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { deleteVolumeOperation } from '../ops/delete-volume.js';

/** DeleteVolume: idempotent; an id that cannot be an EBS volume is already "gone". */
export async function deleteVolume(deps: Deps, req: DeleteVolumeRequest, ctx: CallContext): Promise<DeleteVolumeResponse> {
  if (!req.volumeId) throw invalidArgument('volume_id is required');
  // A node-local handle names a device, not a volume: the nodes' pre-attached volumes are never deleted.
  if (isNodeLocalHandle(req.volumeId) || !isVolumeId(req.volumeId)) return {};
  await deps.ops.run(deleteVolumeOperation, { volumeId: req.volumeId }, ctx.deadline);
  return {};
}
