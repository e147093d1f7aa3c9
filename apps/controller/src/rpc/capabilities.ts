import { ControllerServiceCapability_RPC_Type as Rpc, type ControllerGetCapabilitiesResponse } from '@plinth/csi';

/**
 * Only what works end to end is advertised. VOLUME_CONDITION (value 11, removed
 * by CSI 1.13 and kept in Plinth's proto as a local addition) stays, so that
 * external-health-monitor releases built on CSI 1.12 still ask for the
 * condition in ListVolumes/ControllerGetVolume; GET_VOLUME_HEALTH and
 * LIST_VOLUME_HEALTH are CSI 1.13's health RPCs (docs/health.md).
 */
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
  Rpc.GET_VOLUME_HEALTH,
  Rpc.LIST_VOLUME_HEALTH,
  Rpc.GET_CAPACITY,
  Rpc.CREATE_DELETE_SNAPSHOT,
  Rpc.LIST_SNAPSHOTS,
  Rpc.CLONE_VOLUME,
];

export function controllerGetCapabilities(): ControllerGetCapabilitiesResponse {
  return { capabilities: CONTROLLER_CAPABILITIES.map((type) => ({ rpc: { type } })) };
}
