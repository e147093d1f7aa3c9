import { quotasGiB } from '@plinth/capacity';
import type { Logger } from '@plinth/logger';
import { Jobs } from '@plinth/queue';
import { connectRedis, redisSettings } from '@plinth/redis';
import type { TokenStore } from './auth.js';
import { CloudView } from './cloud-view.js';
import type { ApiConfig } from './config.js';
import type { Deps } from './deps.js';
import { createClouds } from './ec2.js';
import { createKubeSource } from './kube.js';
import { ApiMetrics } from './metrics.js';

/** Connects everything the routes need (Redis, the queue, EC2, Kubernetes when enabled). */
export async function createDeps(config: ApiConfig, log: Logger, tokens: TokenStore, version: string): Promise<{ deps: Deps; close: () => Promise<void> }> {
  const metrics = new ApiMetrics();
  // The config's refinement guarantees REDIS_URL or REDIS_SENTINELS.
  const redisConn = redisSettings(config)!;
  const redis = connectRedis(redisConn, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  // The controller's queue, with Operations' default name and prefix.
  const jobs = new Jobs({ redisUrl: redisConn, onError: (err) => log.warn({ err: err.message }, 'queue connection error') });
  const clouds = createClouds(config, redis, log, metrics);
  const cloud = new CloudView(clouds.cloud, config.PLINTH_CLUSTER_ID, config.API_CACHE_TTL_MS);
  const kube = await createKubeSource(config.API_KUBERNETES, config.PLINTH_DRIVER_NAME, Math.max(config.API_CACHE_TTL_MS, 1000));
  metrics.watch({ queueDepth: () => jobs.depth(), cache: () => cloud.cacheStats });
  const deps: Deps = {
    config,
    log,
    cloud,
    probeCloud: clouds.probe,
    redis,
    jobs,
    tokens,
    metrics,
    kube,
    quotasGiB: quotasGiB(config.CAPACITY_QUOTAS_GIB),
    version,
  };
  return {
    deps,
    async close() {
      await Promise.allSettled([jobs.close(), redis.quit()]);
      clouds.cloud.close();
      clouds.probe.close();
    },
  };
}
