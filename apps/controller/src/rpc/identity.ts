import { pluginCapabilities, type GetPluginCapabilitiesResponse, type GetPluginInfoResponse, type ProbeResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

export function getPluginInfo(deps: Deps): GetPluginInfoResponse {
  return { name: deps.config.PLINTH_DRIVER_NAME, vendorVersion: deps.version, manifest: {} };
}

export function getPluginCapabilities(): GetPluginCapabilitiesResponse {
  return pluginCapabilities();
}

/**
 * Liveness: answering at all means the process serves gRPC, so Probe says ready. Redis and EC2 reachability is
 * readiness (GET /readyz, see readiness.ts): the livenessprobe sidecar calls Probe, and failing it during an
 * outage would only get healthy pods restarted.
 */
export function probe(): ProbeResponse {
  return { ready: true };
}
