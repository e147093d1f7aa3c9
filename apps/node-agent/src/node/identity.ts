import { pluginCapabilities, type GetPluginCapabilitiesResponse, type GetPluginInfoResponse, type ProbeResponse } from '@plinth/csi';
import type { NodeContext } from './context.js';

export function getPluginInfo(ctx: NodeContext): GetPluginInfoResponse {
  return { name: ctx.driverName, vendorVersion: ctx.version, manifest: {} };
}

/** The driver's capabilities, the same as the controller reports (see pluginCapabilities). */
export function getPluginCapabilities(): GetPluginCapabilitiesResponse {
  return pluginCapabilities();
}

/** Ready once the agent serves: identity and limits were resolved before the socket opened. */
export function probe(): ProbeResponse {
  return { ready: true };
}
