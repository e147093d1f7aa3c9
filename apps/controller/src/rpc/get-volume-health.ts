import { notFound } from '@plinth/errors';
import type { CallContext, ControllerGetVolumeHealthRequest, ControllerGetVolumeHealthResponse } from '@plinth/csi';
import type { HealthDeps } from '../health-deps.js';
import { volumeHealth } from '../volume-health.js';
import { requireVolumeId } from './ids.js';

/**
 * ControllerGetVolumeHealth (CSI 1.13, GET_VOLUME_HEALTH): one volume's
 * health from its EC2 state, status checks (DescribeVolumeStatus) and
 * attachments. A missing volume_id is INVALID_ARGUMENT; a volume that does
 * not exist (or an id that cannot be an EBS id) is NOT_FOUND.
 */
export async function controllerGetVolumeHealth(
  deps: HealthDeps,
  req: ControllerGetVolumeHealthRequest,
  ctx: CallContext,
): Promise<ControllerGetVolumeHealthResponse> {
  const volumeId = requireVolumeId(req.volumeId);
  const v = await deps.cloud.volumes.get(volumeId);
  if (!v || v.state === 'deleted') throw notFound(`volume ${volumeId} not found`);
  const statuses = await deps.cloud.api.volumes.status([volumeId], ctx.signal);
  const health = volumeHealth(v, statuses ? statuses.get(volumeId) : 'unavailable', { now: Date.now(), stuckAttachMs: deps.stuckAttachMs });
  deps.health.report(health);
  return { volumeHealth: health };
}
