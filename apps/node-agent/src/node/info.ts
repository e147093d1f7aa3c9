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

const NODE_CAPABILITIES = [Rpc.STAGE_UNSTAGE_VOLUME, Rpc.EXPAND_VOLUME, Rpc.GET_VOLUME_STATS, Rpc.VOLUME_CONDITION, Rpc.SINGLE_NODE_MULTI_WRITER];

export function nodeGetCapabilities(): NodeGetCapabilitiesResponse {
  return { capabilities: NODE_CAPABILITIES.map((type) => ({ rpc: { type } })) };
}
