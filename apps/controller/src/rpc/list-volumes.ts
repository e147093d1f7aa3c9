import type { VolumeInfo } from '@plinth/cloud';
import type { CallContext, ListVolumesRequest, ListVolumesResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { pageCursor, pageOf } from '../paging.js';
import { volumeEntry } from '../volume-condition.js';

/** Volumes being deleted are gone as far as the CO is concerned. */
const listed = (v: VolumeInfo) => !!v.id && v.state !== 'deleting' && v.state !== 'deleted';

/**
 * ListVolumes: this cluster's volumes (tagged plinth.dev/cluster-id), in
 * volume id order, each with the nodes it is attached to and its condition.
 * Paged by Plinth over the whole list (EC2's NextToken order is opaque and
 * LocalStack ignores paging): the token names the last id of its page, so
 * volumes created or deleted between pages shift nothing.
 */
export async function listVolumes(deps: Deps, req: ListVolumesRequest, ctx: CallContext): Promise<ListVolumesResponse> {
  const cursor = pageCursor(req, 'volumes');
  const all = (await deps.cloud.api.volumes.list(deps.cloud.clusterId, ctx.signal)).filter(listed);
  const page = pageOf(all, (v) => v.id, cursor, 'volumes');
  const statuses = await deps.cloud.api.volumes.status(
    page.entries.map((v) => v.id),
    ctx.signal,
  );
  return {
    entries: page.entries.map((v) => volumeEntry(v, statuses ? statuses.get(v.id) : 'unavailable')),
    nextToken: page.nextToken,
  };
}
