import { invalidArgument, notFound } from '@plinth/errors';
import type { CallContext, ControllerExpandVolumeRequest, ControllerExpandVolumeResponse } from '@plinth/csi';
import { GiB, sizeInGiB } from '../capacity.js';
import type { Deps } from '../deps.js';
import type { Expanded } from '../ops/expand-volume.js';
import { isVolumeType, limitsOf } from '../params.js';
import { requireVolumeId } from './ids.js';

/**
 * ControllerExpandVolume: grows the EBS volume (ModifyVolume) through the
 * queue. Online and offline alike; a mounted filesystem then needs
 * NodeExpandVolume, a raw block volume does not.
 */
export async function controllerExpandVolume(deps: Deps, req: ControllerExpandVolumeRequest, ctx: CallContext): Promise<ControllerExpandVolumeResponse> {
  const volumeId = requireVolumeId(req.volumeId);
  const range = req.capacityRange;
  if (!range || (range.requiredBytes <= 0 && range.limitBytes <= 0)) throw invalidArgument('capacity_range is required');
  const vol = await deps.cloud.volumes.get(volumeId);
  if (!vol) throw notFound(`volume ${volumeId} not found`);
  const current = vol.Size ?? 0;
  const lim = limitsOf(isVolumeType(vol.VolumeType) ? vol.VolumeType : 'gp3');
  // With only a limit, the volume keeps its size if that fits (sizeInGiB checks the limit).
  const sizeGiB = sizeInGiB(range, lim.minGiB, lim.maxGiB, current);
  const res = await deps.ops.run<Expanded>('expand', `${volumeId}:${sizeGiB}`, { volumeId, sizeGiB }, ctx.deadline);
  return { capacityBytes: res.sizeGiB * GiB, nodeExpansionRequired: !req.volumeCapability?.block };
}
