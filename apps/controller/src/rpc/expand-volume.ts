import { invalidArgument, notFound, outOfRange } from '@plinth/errors';
import type { CallContext, ControllerExpandVolumeRequest, ControllerExpandVolumeResponse } from '@plinth/csi';
import { GiB, sizeInGiB } from '../capacity.js';
import type { Deps } from '../deps.js';
import { requestChange } from '../ops/modify-requests.js';
import { latestModification } from '../ops/modify-volume.js';
import { refuseNodeLocal } from '../node-local.js';
import { iopsOnResize } from '../params/iops.js';
import { isVolumeType, limitsOf } from '../params/volume-types.js';
import { requireVolumeId } from './ids.js';

/**
 * ControllerExpandVolume: grows the EBS volume through the volume's modify
 * job, so a resize and a ControllerModifyVolume arriving together become one
 * ModifyVolume. Online and offline alike; a mounted filesystem then needs
 * NodeExpandVolume, a raw block volume does not. A volume already at least
 * the required size keeps it; a limit below its size is OUT_OF_RANGE (EBS
 * volumes never shrink).
 */
export async function controllerExpandVolume(deps: Deps, req: ControllerExpandVolumeRequest, ctx: CallContext): Promise<ControllerExpandVolumeResponse> {
  refuseNodeLocal(req.volumeId, 'expanded');
  const volumeId = requireVolumeId(req.volumeId);
  const range = req.capacityRange;
  if (!range || (range.requiredBytes <= 0 && range.limitBytes <= 0)) throw invalidArgument('capacity_range is required');
  const vol = await deps.cloud.volumes.get(volumeId);
  if (!vol) throw notFound(`volume ${volumeId} not found`);
  const current = vol.sizeGiB;
  if (range.limitBytes > 0 && current * GiB > range.limitBytes)
    throw outOfRange(`capacity_range: volume ${volumeId} is already ${current} GiB, more than limit_bytes ${range.limitBytes}; EBS volumes cannot shrink`);
  const lim = limitsOf(isVolumeType(vol.type) ? vol.type : 'gp3');
  const sizeGiB = sizeInGiB(range, lim.minGiB, lim.maxGiB, current);
  const nodeExpansionRequired = !req.volumeCapability?.block;
  // Big enough already, and no modification still under way: nothing to do.
  if (sizeGiB <= current && (await latestModification(deps.cloud.api, volumeId))?.state !== 'modifying')
    return { capacityBytes: current * GiB, nodeExpansionRequired };
  // A class with iopsPerGB and allowAutoIOPSIncreaseOnModify keeps its IOPS-per-GiB ratio (tags on the volume), as aws-ebs-csi-driver.
  const { iops, note } = isVolumeType(vol.type) ? iopsOnResize(vol.type, vol.tags, sizeGiB) : {};
  if (note) deps.log.info({ volumeId }, `expansion: ${note}`);
  const state = await requestChange(deps, volumeId, { sizeGiB, iops }, ctx.deadline, deps.config.MODIFY_COALESCE_WINDOW_MS);
  return { capacityBytes: state.sizeGiB * GiB, nodeExpansionRequired };
}
