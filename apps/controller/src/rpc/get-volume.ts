import { unimplemented } from '@plinth/errors';
import type { CallContext, ControllerGetVolumeRequest, ControllerGetVolumeResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

/** ControllerGetVolume: not advertised yet (work in progress, issue 5). */
export function controllerGetVolume(_deps: Deps, _req: ControllerGetVolumeRequest, _ctx: CallContext): Promise<ControllerGetVolumeResponse> {
  return Promise.reject(unimplemented('ControllerGetVolume is not implemented by this controller yet'));
}
