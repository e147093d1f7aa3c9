import { unimplemented } from '@plinth/errors';
import type { CallContext, DeleteSnapshotRequest, DeleteSnapshotResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

/** DeleteSnapshot: not advertised yet (work in progress, issue 5). */
export function deleteSnapshot(_deps: Deps, _req: DeleteSnapshotRequest, _ctx: CallContext): Promise<DeleteSnapshotResponse> {
  return Promise.reject(unimplemented('DeleteSnapshot is not implemented by this controller yet'));
}
