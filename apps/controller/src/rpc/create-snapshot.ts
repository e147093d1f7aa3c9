import { unimplemented } from '@plinth/errors';
import type { CallContext, CreateSnapshotRequest, CreateSnapshotResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

/** CreateSnapshot: not advertised yet (work in progress, issue 5). */
export function createSnapshot(_deps: Deps, _req: CreateSnapshotRequest, _ctx: CallContext): Promise<CreateSnapshotResponse> {
  return Promise.reject(unimplemented('CreateSnapshot is not implemented by this controller yet'));
}
