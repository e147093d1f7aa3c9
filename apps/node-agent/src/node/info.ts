import { NodeServiceCapability_RPC_Type as Rpc, type NodeGetCapabilitiesResponse, type NodeGetInfoResponse } from '@plinth/csi';
import type { NodeContext } from './context.js';

const ZONE_KEY = 'topology.kubernetes.io/zone';
/** Kept for volumes provisioned with the aws-ebs-csi-driver's topology key. */
const LEGACY_ZONE_KEY = 'topology.ebs.csi.aws.com/zone';

export function nodeGetInfo(ctx: NodeContext): NodeGetInfoResponse {
  const { nodeId, zone, maxVolumesPerNode } = ctx.identity;
  return {
    nodeId,
    maxVolumesPerNode,
    accessibleTopology: { segments: { [ZONE_KEY]: zone, [LEGACY_ZONE_KEY]: zone } },
  };
}

/**
 * VOLUME_CONDITION (value 4, removed by CSI 1.13 and kept in Plinth's proto as
 * a local addition) stays so that kubelets built on CSI 1.12 still read the
 * condition in NodeGetVolumeStats; GET_VOLUME_HEALTH and GET_STORAGE_HEALTH
 * are CSI 1.13's (docs/health.md).
 */
const NODE_CAPABILITIES = [
  Rpc.STAGE_UNSTAGE_VOLUME,
  Rpc.EXPAND_VOLUME,
  Rpc.GET_VOLUME_STATS,
  Rpc.VOLUME_CONDITION,
  Rpc.SINGLE_NODE_MULTI_WRITER,
  Rpc.GET_VOLUME_HEALTH,
  Rpc.GET_STORAGE_HEALTH,
];

export function nodeGetCapabilities(): NodeGetCapabilitiesResponse {
  return { capabilities: NODE_CAPABILITIES.map((type) => ({ rpc: { type } })) };
}
