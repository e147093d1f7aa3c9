import { readFileSync } from 'node:fs';
import { CapacityReader, quotasGiB } from '@plinth/capacity';
import { createAwsCloud, createAwsSnapshotBlocks, measureExternal, RedisRateLimiter } from '@plinth/cloud';
import { ConfigError } from '@plinth/config';
import { serveUnix } from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { Operations } from '@plinth/queue';
import { connectRedis, describeRedis, redisSettings } from '@plinth/redis';
import { Cloud } from './cloud.js';
import { loadConfig, type ControllerConfig } from './config.js';
import { DeviceAllocator } from './devices.js';
import { Metrics } from './metrics.js';
import { ModifyRequests } from './ops/modify-requests.js';
import { OPERATIONS, operationHandlers } from './ops/index.js';
import { copySnapshotOperation } from './ops/copy-snapshot.js';
import { RedisCopyTracker } from './copy-tracker.js';
import { Readiness } from './readiness.js';
import { unavailable } from '@plinth/errors';
import { controllerServices } from './server.js';
import { snapshotMetadataService } from './snapshot-metadata.js';
import { onShutdown } from '@plinth/shutdown';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

async function main(config: ControllerConfig): Promise<void> {
  const log = createLogger({ name: 'plinth-controller', level: config.LOG_LEVEL });
  // The config's refinement guarantees REDIS_URL or REDIS_SENTINELS.
  const redisConn = redisSettings(config)!;
  log.info(
    {
      driver: config.PLINTH_DRIVER_NAME,
      version: pkg.version,
      cluster: config.PLINTH_CLUSTER_ID,
      redis: describeRedis(redisConn),
      region: config.AWS_REGION,
      ec2: config.EC2_ENDPOINT ?? 'aws',
      ebs: config.EBS_ENDPOINT ?? 'aws',
    },
    'starting controller',
  );
  const metrics = new Metrics();
  const redis = connectRedis(redisConn, { maxRetriesPerRequest: 3 });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const limiter = config.EC2_RATE_LIMIT_DISABLED ? undefined : new RedisRateLimiter(redis, config.EC2_RATE_LIMITS);
  const api = createAwsCloud({
    region: config.AWS_REGION,
    endpoint: config.EC2_ENDPOINT,
    log,
    limiter,
    observer: metrics.ec2Observer,
    retryBudgetMs: config.EC2_RETRY_BUDGET_MS,
  });
  const cloud = new Cloud(api, config.PLINTH_CLUSTER_ID, {
    pollIntervalMs: config.EC2_POLL_INTERVAL_MS,
    log,
    k8sClusterId: config.K8S_TAG_CLUSTER_ID,
    extraTags: config.EXTRA_TAGS,
  });
  const blocks = createAwsSnapshotBlocks({ region: config.AWS_REGION, endpoint: config.EBS_ENDPOINT, observer: metrics.ec2Observer });
  const devices = new DeviceAllocator(redis);
  const capacity = new CapacityReader(api, config.PLINTH_CLUSTER_ID, { quotasGiB: quotasGiB(config.CAPACITY_QUOTAS_GIB), ttlMs: config.CAPACITY_CACHE_TTL_MS });
  const modifyRequests = new ModifyRequests(redis);

  const ops = new Operations({
    redisUrl: redisConn,
    log,
    concurrency: config.QUEUE_CONCURRENCY,
    lockDurationMs: config.QUEUE_LOCK_MS,
    attempts: config.QUEUE_ATTEMPTS,
    jobTimeoutMs: config.OPERATION_TIMEOUT_MS,
    onJobDone: metrics.onJobDone,
    measure: measureExternal,
    onOverhead: metrics.onOverhead,
  });
  const copyTracker = new RedisCopyTracker(redis, config.PLINTH_CLUSTER_ID, metrics.onCopyFailed);
  ops.handleAll(
    OPERATIONS,
    operationHandlers({
      cloud,
      devices,
      redis,
      modifyRequests,
      metrics,
      pollIntervalMs: config.EC2_POLL_INTERVAL_MS,
      stuckAttachMs: config.STUCK_ATTACH_TIMEOUT_MS,
      copies: {
        submit: async (job) => void (await ops.submit(copySnapshotOperation, job)),
        tracker: copyTracker,
      },
    }),
  );
  await ops.start();
  metrics.watchQueue(ops);
  metrics.watchCopies(copyTracker);

  const defaultZone = config.DEFAULT_ZONE ?? `${config.AWS_REGION}a`;
  const readiness = new Readiness(
    { pingRedis: (ms) => ops.ping(ms), pingEc2: (signal) => cloud.api.ping(signal) },
    {
      // An outage found: the calls already waiting hear it now, not at their deadline (their jobs go on).
      onUnready: (reasons) => {
        const told = ops.abandonWaits(unavailable(`${reasons.join('; ')}; the operation continues, retry to wait for it`));
        log.warn({ reasons, calls: told }, 'not ready: told the waiting calls to retry');
      },
    },
  );
  const server = await serveUnix(
    config.CSI_ENDPOINT,
    [
      ...controllerServices({ config, ops, cloud, capacity, modifyRequests, version: pkg.version, defaultZone, log }, log, metrics, readiness),
      snapshotMetadataService({ snapshots: cloud.api.snapshots, blocks }, log, metrics),
    ],
    log,
  );
  const metricsServer = config.METRICS_ADDRESS ? await metrics.serve(config.METRICS_ADDRESS, readiness) : undefined;
  if (config.METRICS_ADDRESS) log.info({ address: config.METRICS_ADDRESS }, 'metrics on /metrics, liveness on /healthz, readiness (Redis, EC2) on /readyz');

  onShutdown(log, config.SHUTDOWN_GRACE_MS, [
    { name: 'grpc', run: (ms) => server.close(Math.min(ms, 5000)) },
    { name: 'queue', run: (ms) => ops.close(ms) },
    { name: 'watcher', run: () => Promise.resolve(cloud.watcher.close(new Error('shutting down'))) },
    { name: 'metrics', run: () => new Promise((r) => (metricsServer ? metricsServer.close(r) : r(undefined))) },
    { name: 'redis', run: () => redis.quit() },
    { name: 'ebs', run: () => Promise.resolve(blocks.close()) },
  ]);
}

try {
  await main(loadConfig());
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`plinth-controller: ${err.message}`);
    process.exit(err.exitCode);
  }
  console.error('plinth-controller failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
}
