import type { VolumeInfo } from '@plinth/cloud';
import { isUnhealthy, type CallContext, type ControllerListVolumeHealthRequest, type ControllerListVolumeHealthResponse } from '@plinth/csi';
import type { HealthDeps } from '../health-deps.js';
import { pageCursor, pageOf } from '../paging.js';
import { volumeHealth } from '../volume-health.js';

const known = (v: VolumeInfo) => !!v.id && v.state !== 'deleted';

/**
 * ControllerListVolumeHealth (CSI 1.13, LIST_VOLUME_HEALTH): the abnormal
 * volumes of this cluster (tagged plinth.dev/cluster-id), as the spec asks,
 * in volume id order. One DescribeVolumes for the cluster and one
 * DescribeVolumeStatus per 200 volumes; paged by Plinth as ListVolumes is (the
 * token names the last volume id of its page; a token it did not issue is
 * ABORTED, a negative max_entries INVALID_ARGUMENT).
 */
export async function controllerListVolumeHealth(
  deps: HealthDeps,
  req: ControllerListVolumeHealthRequest,
  ctx: CallContext,
): Promise<ControllerListVolumeHealthResponse> {
  const cursor = pageCursor(req, 'volume-health');
  const all = (await deps.cloud.api.volumes.list(deps.cloud.clusterId, ctx.signal)).filter(known);
  const statuses = await deps.cloud.api.volumes.status(
    all.map((v) => v.id),
    ctx.signal,
  );
  const now = Date.now();
  const unhealthy = all
    .map((v) => volumeHealth(v, statuses ? statuses.get(v.id) : 'unavailable', { now, stuckAttachMs: deps.stuckAttachMs }))
    .filter(isUnhealthy);
  if (cursor.after === undefined && cursor.limit === 0) deps.health.replaceAll(unhealthy);
  else for (const h of unhealthy) deps.health.report(h);
  const page = pageOf(unhealthy, (h) => h.volumeId, cursor, 'volume-health');
  return { entries: page.entries, nextToken: page.nextToken };
}
