import { unimplemented } from '@plinth/errors';
import type { CallContext, ListVolumesRequest, ListVolumesResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

/** ListVolumes: not advertised yet (work in progress, issue 5). */
export function listVolumes(_deps: Deps, _req: ListVolumesRequest, _ctx: CallContext): Promise<ListVolumesResponse> {
  return Promise.reject(unimplemented('ListVolumes is not implemented by this controller yet'));
}
