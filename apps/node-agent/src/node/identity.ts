import { PluginCapability_Service_Type, PluginCapability_VolumeExpansion_Type, type GetPluginCapabilitiesResponse, type GetPluginInfoResponse, type ProbeResponse } from '@plinth/csi';
import type { NodeContext } from './context.js';

export function getPluginInfo(ctx: NodeContext): GetPluginInfoResponse {
  return { name: ctx.driverName, vendorVersion: ctx.version, manifest: {} };
}

/**
 * The node plugin serves no controller service; it offers topology and online
 * expansion (the node side of it).
 */
export function getPluginCapabilities(): GetPluginCapabilitiesResponse {
  return {
    capabilities: [
      { service: { type: PluginCapability_Service_Type.VOLUME_ACCESSIBILITY_CONSTRAINTS } },
      { volumeExpansion: { type: PluginCapability_VolumeExpansion_Type.ONLINE } },
    ],
  };
}

/** Ready once the agent serves: identity and limits were resolved before the socket opened. */
export function probe(): ProbeResponse {
  return { ready: true };
}
