import { serverStream, SnapshotMetadataService, type ServiceBinding, type SnapshotMetadataServer } from '@plinth/csi';
import type { Logger } from '@plinth/logger';
import type { Metrics } from './metrics.js';
import type { MetadataDeps } from './rpc/block-metadata.js';
import { getMetadataAllocated } from './rpc/get-metadata-allocated.js';
import { getMetadataDelta } from './rpc/get-metadata-delta.js';

/** The SnapshotMetadata service (changed-block tracking), each streaming RPC wired to its handler in rpc/. */
export function snapshotMetadataService(deps: MetadataDeps, log: Logger, metrics: Metrics): ServiceBinding {
  const implementation: SnapshotMetadataServer = {
    getMetadataAllocated: serverStream('GetMetadataAllocated', (req, send, ctx) => getMetadataAllocated(deps, req, send, ctx), log, metrics.observeRpc),
    getMetadataDelta: serverStream('GetMetadataDelta', (req, send, ctx) => getMetadataDelta(deps, req, send, ctx), log, metrics.observeRpc),
  };
  return { definition: SnapshotMetadataService, implementation };
}
