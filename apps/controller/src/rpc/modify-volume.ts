import { notFound } from '@plinth/errors';
import type { CallContext, ControllerModifyVolumeRequest, ControllerModifyVolumeResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { requestChange, satisfies, type VolumeChange } from '../ops/modify-requests.js';
import { latestModification, shapeOf, stateOf } from '../ops/modify-volume.js';
import { refuseNodeLocal } from '../node-local.js';
import { checkShape, modifiedShape } from '../params/shape.js';
import { limitsOf } from '../params/volume-types.js';
import { iopsOnResize } from '../params/iops.js';
import { iopsTags, parseMutableParams } from '../params/mutable-params.js';
import { requireVolumeId } from './ids.js';

/**
 * ControllerModifyVolume (VolumeAttributesClass): type, iops, throughput and
 * tagSpecification_N, checked here against the volume as EC2 describes it,
 * then applied by the volume's modify job (one ModifyVolume for everything
 * asked within the coalescing window, including a resize; tags by CreateTags).
 * Answers once EC2 has the modification optimizing or completed.
 */
export async function controllerModifyVolume(deps: Deps, req: ControllerModifyVolumeRequest, ctx: CallContext): Promise<ControllerModifyVolumeResponse> {
  refuseNodeLocal(req.volumeId, 'modified');
  const volumeId = requireVolumeId(req.volumeId);
  const m = parseMutableParams(req.mutableParameters, (message) => deps.log.warn({ volumeId }, message));
  const vol = await deps.cloud.volumes.get(volumeId);
  if (!vol) throw notFound(`volume ${volumeId} not found`);
  const current = shapeOf(vol);
  const tags = { ...m.tags, ...iopsTags(m) };
  // iopsPerGB sets IOPS now only with allowAutoIOPSIncreaseOnModify (the class's or the volume's), as aws-ebs-csi-driver; otherwise it is kept for later resizes.
  const type = m.type ?? current.type;
  const perGB = m.iops === undefined && m.iopsPerGB !== undefined ? iopsOnResize(type, { ...vol.tags, ...tags }, current.sizeGiB) : {};
  if (perGB.note) deps.log.warn({ volumeId }, perGB.note);
  const change: VolumeChange = { type: m.type, iops: m.iops ?? perGB.iops, throughput: m.throughput, tags, deleteTags: m.deleteTags };
  // Refused at once: what no size could make fit. What depends on the size (IOPS per GiB, a type's
  // minimum size) the modify job checks, with any resize that arrives within the coalescing window.
  const largest = limitsOf(modifiedShape(current, change).type).maxGiB;
  checkShape(modifiedShape({ ...current, sizeGiB: largest }, change), change);
  // Already so, and no modification still under way: nothing to send (EC2 would count even a no-op one).
  if (satisfies(stateOf(vol), change) && (await latestModification(deps.cloud.api, volumeId))?.state !== 'modifying') return {};
  await requestChange(deps, volumeId, change, ctx.deadline, deps.config.MODIFY_COALESCE_WINDOW_MS);
  return {};
}
