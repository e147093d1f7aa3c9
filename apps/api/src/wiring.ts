import { quotasGiB } from '@plinth/capacity';
import type { Logger } from '@plinth/logger';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { TokenStore } from './auth.js';
import { CloudView } from './cloud-view.js';
import type { ApiConfig } from './config.js';
import type { Deps } from './deps.js';
import { createClouds } from './ec2.js';
import { depth } from './job-view.js';
import { createKubeSource } from './kube.js';
import { ApiMetrics } from './metrics.js';

/** Connects everything the routes need (Redis, the queue, EC2, Kubernetes when enabled). */
export async function createDeps(config: ApiConfig, log: Logger, tokens: TokenStore, version: string): Promise<{ deps: Deps; close: () => Promise<void> }> {
  const metrics = new ApiMetrics();
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const queueRedis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  queueRedis.on('error', (err) => log.warn({ err: err.message }, 'queue redis connection error'));
  // The controller's queue: same name and prefix as @plinth/queue's Operations.
  const queue = new Queue('plinth-ops', { connection: queueRedis, prefix: 'plinth' });
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  const clouds = createClouds(config, redis, log, metrics);
  const cloud = new CloudView(clouds.cloud, config.PLINTH_CLUSTER_ID, config.API_CACHE_TTL_MS);
  const kube = await createKubeSource(config.API_KUBERNETES, config.PLINTH_DRIVER_NAME, Math.max(config.API_CACHE_TTL_MS, 1000));
  metrics.watch({ queueDepth: () => depth(queue), cache: () => cloud.cacheStats });
  const deps: Deps = { config, log, cloud, probeCloud: clouds.probe, redis, queue, tokens, metrics, kube, quotasGiB: quotasGiB(config.CAPACITY_QUOTAS_GIB), version };
  return {
    deps,
    async close() {
      await queue.close().catch(() => undefined);
      await Promise.allSettled([redis.quit(), queueRedis.quit()]);
      clouds.cloud.close();
      clouds.probe.close();
    },
  };
}
