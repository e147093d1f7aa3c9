import { unimplemented } from '@plinth/errors';
import type { CallContext, GetSnapshotRequest, GetSnapshotResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

/** GetSnapshot: not advertised yet (work in progress, issue 5). */
export function getSnapshot(_deps: Deps, _req: GetSnapshotRequest, _ctx: CallContext): Promise<GetSnapshotResponse> {
  return Promise.reject(unimplemented('GetSnapshot is not implemented by this controller yet'));
}
