import type { Cloud } from '@plinth/cloud';
import type { Logger } from '@plinth/logger';
import type { Jobs } from '@plinth/queue';
import type { Redis } from 'ioredis';
import type { TokenStore } from './auth.js';
import type { CloudView } from './cloud-view.js';
import type { ApiConfig } from './config.js';
import type { KubeSource } from './kube.js';
import type { ApiMetrics } from './metrics.js';

/** What the routes need; built once in main.ts (or by a test). */
export interface Deps {
  config: ApiConfig;
  log: Logger;
  cloud: CloudView;
  /** A second Cloud with a short retry budget, for readiness (a probe must answer fast). */
  probeCloud: Cloud;
  redis: Redis;
  /** The operation queue's read side. */
  jobs: Jobs;
  tokens: TokenStore;
  metrics: ApiMetrics;
  kube?: KubeSource | undefined;
  /** Capacity quotas in GiB per type. */
  quotasGiB: Record<string, number>;
  version: string;
}
