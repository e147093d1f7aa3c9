import { ControllerServiceCapability_RPC_Type as Rpc, type ControllerGetCapabilitiesResponse } from '@plinth/csi';

/** Only what works end to end is advertised. */
const CONTROLLER_CAPABILITIES: Rpc[] = [
  Rpc.CREATE_DELETE_VOLUME,
  Rpc.PUBLISH_UNPUBLISH_VOLUME,
  Rpc.EXPAND_VOLUME,
  Rpc.MODIFY_VOLUME,
  Rpc.SINGLE_NODE_MULTI_WRITER,
  Rpc.LIST_VOLUMES,
  Rpc.LIST_VOLUMES_PUBLISHED_NODES,
  Rpc.GET_VOLUME,
  Rpc.VOLUME_CONDITION,
  Rpc.GET_CAPACITY,
  Rpc.CREATE_DELETE_SNAPSHOT,
  Rpc.LIST_SNAPSHOTS,
  Rpc.CLONE_VOLUME,
];

export function controllerGetCapabilities(): ControllerGetCapabilitiesResponse {
  return { capabilities: CONTROLLER_CAPABILITIES.map((type) => ({ rpc: { type } })) };
}
