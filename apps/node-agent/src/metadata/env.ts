import type { SourceResult } from './types.js';

/** Explicit configuration: NODE_ID, NODE_ZONE (both needed), NODE_INSTANCE_TYPE (optional). */
export function fromEnv(nodeId: string | undefined, zone: string | undefined, instanceType: string | undefined): SourceResult {
  if (!nodeId || !zone) {
    const missing = [!nodeId && 'NODE_ID', !zone && 'NODE_ZONE'].filter(Boolean).join(' and ');
    return { skipped: `explicit config: ${missing} not set` };
  }
  return { ok: { source: 'env', instanceId: nodeId, zone, instanceType } };
}
