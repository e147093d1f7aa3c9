import { failedPrecondition } from '@plinth/errors';
import type { Logger } from '@plinth/logger';
import type { Config } from '../config.js';
import { fromEnv } from './env.js';
import { fromImds } from './imds.js';
import { fromKubernetes } from './kubernetes.js';
import type { NodeMetadata, SourceResult } from './types.js';

/**
 * Asks the configured sources in order (METADATA_SOURCES) and takes the first
 * answer. Each miss is logged; if none answers, the error lists every source
 * and why it did not answer.
 */
export async function resolveMetadata(cfg: Config, log: Logger): Promise<NodeMetadata> {
  const tried: string[] = [];
  for (const name of cfg.METADATA_SOURCES) {
    let r: SourceResult;
    if (name === 'imds') {
      r = cfg.IMDS_DISABLED ? { skipped: 'IMDS: disabled by IMDS_DISABLED' } : await fromImds({ endpoint: cfg.IMDS_ENDPOINT, timeoutMs: cfg.IMDS_TIMEOUT_MS });
    } else if (name === 'kubernetes') {
      r = await fromKubernetes(cfg.KUBE_NODE_NAME, 5_000);
    } else {
      r = fromEnv(cfg.NODE_ID, cfg.NODE_ZONE, cfg.NODE_INSTANCE_TYPE);
    }
    if ('ok' in r) {
      log.info(
        { source: r.ok.source, instanceId: r.ok.instanceId, zone: r.ok.zone, instanceType: r.ok.instanceType, skipped: tried },
        'node metadata resolved',
      );
      return r.ok;
    }
    log.info({ source: name, reason: r.skipped }, 'metadata source did not answer; trying the next');
    tried.push(r.skipped);
  }
  throw failedPrecondition(`no metadata source answered (tried ${cfg.METADATA_SOURCES.join(', ')}):\n  - ${tried.join('\n  - ')}`);
}
