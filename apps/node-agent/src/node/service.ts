import {
  IdentityService,
  NodeService,
  unary,
  type NodeExpandVolumeRequest,
  type NodeGetVolumeStatsRequest,
  type NodePublishVolumeRequest,
  type NodeStageVolumeRequest,
  type NodeUnpublishVolumeRequest,
  type NodeUnstageVolumeRequest,
  type RpcObserver,
  type ServiceBinding,
} from '@plinth/csi';
import type { NodeContext } from './context.js';
import { nodeExpandVolume } from './expand.js';
import { getPluginCapabilities, getPluginInfo, probe } from './identity.js';
import { nodeGetCapabilities, nodeGetInfo } from './info.js';
import { nodePublishVolume } from './publish.js';
import { nodeStageVolume } from './stage.js';
import { nodeGetVolumeStats } from './stats.js';
import { nodeUnpublishVolume } from './unpublish.js';
import { nodeUnstageVolume } from './unstage.js';

/** The Identity and Node gRPC services, each method wrapped with logging, error mapping and metrics. */
export function nodeServices(ctx: NodeContext, observe?: RpcObserver): ServiceBinding[] {
  const log = ctx.log;
  const identity = {
    getPluginInfo: unary('GetPluginInfo', () => Promise.resolve(getPluginInfo(ctx)), log, observe),
    getPluginCapabilities: unary('GetPluginCapabilities', () => Promise.resolve(getPluginCapabilities()), log, observe),
    probe: unary('Probe', () => Promise.resolve(probe()), log, observe),
  };
  const node = {
    nodeStageVolume: unary('NodeStageVolume', (req: NodeStageVolumeRequest, c) => nodeStageVolume(ctx, req, c.signal), log, observe),
    nodeUnstageVolume: unary('NodeUnstageVolume', (req: NodeUnstageVolumeRequest) => nodeUnstageVolume(ctx, req), log, observe),
    nodePublishVolume: unary('NodePublishVolume', (req: NodePublishVolumeRequest, c) => nodePublishVolume(ctx, req, c.signal), log, observe),
    nodeUnpublishVolume: unary('NodeUnpublishVolume', (req: NodeUnpublishVolumeRequest) => nodeUnpublishVolume(ctx, req), log, observe),
    nodeGetVolumeStats: unary('NodeGetVolumeStats', (req: NodeGetVolumeStatsRequest) => nodeGetVolumeStats(ctx, req), log, observe),
    nodeExpandVolume: unary('NodeExpandVolume', (req: NodeExpandVolumeRequest, c) => nodeExpandVolume(ctx, req, c.signal), log, observe),
    nodeGetCapabilities: unary('NodeGetCapabilities', () => Promise.resolve(nodeGetCapabilities()), log, observe),
    nodeGetInfo: unary('NodeGetInfo', () => Promise.resolve(nodeGetInfo(ctx)), log, observe),
  };
  return [
    { definition: IdentityService, implementation: identity },
    { definition: NodeService, implementation: node },
  ];
}
