import { pluginCapabilities, type GetPluginCapabilitiesResponse, type GetPluginInfoResponse, type ProbeResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';

export function getPluginInfo(deps: Deps): GetPluginInfoResponse {
  return { name: deps.config.PLINTH_DRIVER_NAME, vendorVersion: deps.version, manifest: {} };
}

export function getPluginCapabilities(): GetPluginCapabilitiesResponse {
  return pluginCapabilities();
}

/** Caches the EC2 reachability check so a chatty liveness probe cannot spend the API budget. */
export class Readiness {
  private ec2CheckedAt = 0;
  private ec2Ok = false;

  constructor(
    private readonly deps: Deps,
    private readonly ec2TtlMs = 15_000,
  ) {}

  async check(): Promise<{ ready: boolean; reasons: string[] }> {
    const reasons: string[] = [];
    const redis = this.deps.ops.ping().then(
      () => true,
      () => false,
    );
    if (Date.now() - this.ec2CheckedAt > this.ec2TtlMs) {
      this.ec2Ok = await this.deps.cloud.api.ping(AbortSignal.timeout(5000)).then(
        () => true,
        () => false,
      );
      this.ec2CheckedAt = Date.now();
    }
    if (!(await redis)) reasons.push('Redis is unreachable');
    if (!this.ec2Ok) reasons.push('EC2 is unreachable');
    return { ready: reasons.length === 0, reasons };
  }
}

export async function probe(readiness: Readiness): Promise<ProbeResponse> {
  const { ready } = await readiness.check();
  return { ready };
}
