import { notFound } from '@plinth/errors';
import type { CallContext, ControllerGetVolumeRequest, ControllerGetVolumeResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { volumeEntry } from '../volume-condition.js';
import { requireVolumeId } from './ids.js';

/**
 * ControllerGetVolume: one volume by id (any EBS volume, so statically
 * provisioned ones too), with the nodes it is attached to and its condition
 * from its EC2 state and status checks. A volume that does not exist, or no
 * longer does, is NOT_FOUND; an id that cannot be an EBS id is NOT_FOUND too.
 */
export async function controllerGetVolume(deps: Deps, req: ControllerGetVolumeRequest, ctx: CallContext): Promise<ControllerGetVolumeResponse> {
  const volumeId = requireVolumeId(req.volumeId);
  const v = await deps.cloud.volumes.get(volumeId);
  if (!v || v.state === 'deleted') throw notFound(`volume ${volumeId} not found`);
  const statuses = await deps.cloud.api.volumes.status([volumeId], ctx.signal);
  return volumeEntry(v, statuses ? statuses.get(volumeId) : 'unavailable');
}
