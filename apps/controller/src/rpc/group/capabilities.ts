import { GroupControllerServiceCapability_RPC_Type as Rpc, type GroupControllerGetCapabilitiesResponse } from '@plinth/csi';

export function groupControllerGetCapabilities(): GroupControllerGetCapabilitiesResponse {
  return { capabilities: [{ rpc: { type: Rpc.CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT } }] };
}
