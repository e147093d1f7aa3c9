import {
  IdentityService,
  NodeService,
  unary,
  type NodeExpandVolumeRequest,
  type NodeGetVolumeHealthRequest,
  type NodeGetVolumeStatsRequest,
  type NodePublishVolumeRequest,
  type NodeStageVolumeRequest,
  type NodeUnpublishVolumeRequest,
  type NodeUnstageVolumeRequest,
  type CallContext,
  type RpcObserver,
  type ServiceBinding,
} from '@plinth/csi';
import { internal, isPlinthError } from '@plinth/errors';
import type { NodeContext } from './context.js';
import { nodeExpandVolume } from './expand.js';
import { getPluginCapabilities, getPluginInfo, probe } from './identity.js';
import { nodeGetCapabilities, nodeGetInfo } from './info.js';
import { nodePublishVolume } from './publish.js';
import { nodeStageVolume } from './stage.js';
import { nodeGetVolumeStats } from './stats.js';
import { nodeGetStorageHealth } from './storage-health.js';
import { nodeUnpublishVolume } from './unpublish.js';
import { nodeUnstageVolume } from './unstage.js';
import { nodeGetVolumeHealth } from './volume-health.js';

/**
 * OS errors (EACCES, ENOTDIR, EEXIST …) from node:fs would reach the wire as
 * a bare "internal error"; this names the syscall and path instead. No stack.
 */
export function explainOsErrors<A extends unknown[], R>(method: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      if (isPlinthError(err)) throw err;
      const e = err as NodeJS.ErrnoException;
      if (typeof e.code === 'string' && typeof e.syscall === 'string') {
        throw internal(`${method}: ${e.syscall}${e.path ? ` ${e.path}` : ''} failed with ${e.code}`, { cause: err });
      }
      throw err;
    }
  };
}

/** The Identity and Node gRPC services, each method wrapped with logging, error mapping and metrics. */
export function nodeServices(ctx: NodeContext, observe?: RpcObserver): ServiceBinding[] {
  const log = ctx.log;
  const identity = {
    getPluginInfo: unary('GetPluginInfo', () => Promise.resolve(getPluginInfo(ctx)), log, observe),
    getPluginCapabilities: unary('GetPluginCapabilities', () => Promise.resolve(getPluginCapabilities()), log, observe),
    probe: unary('Probe', () => Promise.resolve(probe()), log, observe),
  };
  const node = {
    nodeStageVolume: unary(
      'NodeStageVolume',
      explainOsErrors('NodeStageVolume', (req: NodeStageVolumeRequest, c: CallContext) => nodeStageVolume(ctx, req, c.signal)),
      log,
      observe,
    ),
    nodeUnstageVolume: unary(
      'NodeUnstageVolume',
      explainOsErrors('NodeUnstageVolume', (req: NodeUnstageVolumeRequest) => nodeUnstageVolume(ctx, req)),
      log,
      observe,
    ),
    nodePublishVolume: unary(
      'NodePublishVolume',
      explainOsErrors('NodePublishVolume', (req: NodePublishVolumeRequest, c: CallContext) => nodePublishVolume(ctx, req, c.signal)),
      log,
      observe,
    ),
    nodeUnpublishVolume: unary(
      'NodeUnpublishVolume',
      explainOsErrors('NodeUnpublishVolume', (req: NodeUnpublishVolumeRequest) => nodeUnpublishVolume(ctx, req)),
      log,
      observe,
    ),
    nodeGetVolumeStats: unary(
      'NodeGetVolumeStats',
      explainOsErrors('NodeGetVolumeStats', (req: NodeGetVolumeStatsRequest) => nodeGetVolumeStats(ctx, req)),
      log,
      observe,
    ),
    nodeExpandVolume: unary(
      'NodeExpandVolume',
      explainOsErrors('NodeExpandVolume', (req: NodeExpandVolumeRequest, c: CallContext) => nodeExpandVolume(ctx, req, c.signal)),
      log,
      observe,
    ),
    nodeGetVolumeHealth: unary(
      'NodeGetVolumeHealth',
      explainOsErrors('NodeGetVolumeHealth', (req: NodeGetVolumeHealthRequest) => nodeGetVolumeHealth(ctx, req)),
      log,
      observe,
    ),
    nodeGetStorageHealth: unary(
      'NodeGetStorageHealth',
      explainOsErrors('NodeGetStorageHealth', () => nodeGetStorageHealth(ctx)),
      log,
      observe,
    ),
    nodeGetCapabilities: unary('NodeGetCapabilities', () => Promise.resolve(nodeGetCapabilities()), log, observe),
    nodeGetInfo: unary('NodeGetInfo', () => Promise.resolve(nodeGetInfo(ctx)), log, observe),
  };
  return [
    { definition: IdentityService, implementation: identity },
    { definition: NodeService, implementation: node },
  ];
}
