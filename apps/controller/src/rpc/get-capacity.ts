import { unimplemented } from '@plinth/errors';
import type { CallContext, GetCapacityRequest, GetCapacityResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

/** GetCapacity: not advertised yet (work in progress, issue 5). */
export function getCapacity(_deps: Deps, _req: GetCapacityRequest, _ctx: CallContext): Promise<GetCapacityResponse> {
  return Promise.reject(unimplemented('GetCapacity is not implemented by this controller yet'));
}
