import { unimplemented } from '@plinth/errors';
import type { CallContext, ListSnapshotsRequest, ListSnapshotsResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

/** ListSnapshots: not advertised yet (work in progress, issue 5). */
export function listSnapshots(_deps: Deps, _req: ListSnapshotsRequest, _ctx: CallContext): Promise<ListSnapshotsResponse> {
  return Promise.reject(unimplemented('ListSnapshots is not implemented by this controller yet'));
}
