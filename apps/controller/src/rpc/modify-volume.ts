import { unimplemented } from '@plinth/errors';
import type { CallContext, ControllerModifyVolumeRequest, ControllerModifyVolumeResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

/** ControllerModifyVolume: not advertised yet (work in progress, issue 5). */
export function controllerModifyVolume(_deps: Deps, _req: ControllerModifyVolumeRequest, _ctx: CallContext): Promise<ControllerModifyVolumeResponse> {
  return Promise.reject(unimplemented('ControllerModifyVolume is not implemented by this controller yet'));
}
