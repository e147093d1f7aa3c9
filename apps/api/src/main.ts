import { readFileSync } from 'node:fs';
import { quotasGiB } from '@plinth/capacity';
import { ConfigError } from '@plinth/config';
import { createLogger, redactUrl } from '@plinth/logger';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { loadTokens, TokenStore } from './auth.js';
import { CloudView } from './cloud-view.js';
import { isLoopback, loadConfig, splitAddress, type ApiConfig } from './config.js';
import { createEc2 } from './ec2.js';
import { depth } from './job-view.js';
import { createKubeSource } from './kube.js';
import { ApiMetrics } from './metrics.js';
import { onShutdown } from './shutdown.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

async function main(config: ApiConfig): Promise<void> {
  const log = createLogger({ name: 'plinth-api', level: config.LOG_LEVEL });
  const { host, port } = splitAddress(config.API_ADDRESS);
  const loaded = loadTokens(config, isLoopback(host));
  const tokens = new TokenStore(loaded.specs);
  log.info(
    { version: pkg.version, cluster: config.PLINTH_CLUSTER_ID, redis: redactUrl(config.REDIS_URL), region: config.AWS_REGION, ec2: config.EC2_ENDPOINT ?? 'aws', tokens: tokens.size, tls: Boolean(config.API_TLS_CERT) },
    'starting admin API',
  );

  const metrics = new ApiMetrics();
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const queueRedis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  queueRedis.on('error', (err) => log.warn({ err: err.message }, 'queue redis connection error'));
  const queue = new Queue('plinth-ops', { connection: queueRedis, prefix: 'plinth' });
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  const { ec2, probe } = createEc2(config, redis, log, metrics);
  const cloud = new CloudView(ec2, config.PLINTH_CLUSTER_ID, config.API_CACHE_TTL_MS);
  const kube = await createKubeSource(config.API_KUBERNETES, config.PLINTH_DRIVER_NAME, Math.max(config.API_CACHE_TTL_MS, 1000));
  log.info({ kubernetes: Boolean(kube), mode: config.API_KUBERNETES }, kube ? 'Kubernetes is a node source' : 'Kubernetes is not a node source (no kubeconfig or API_KUBERNETES=off)');
  metrics.watch({ queueDepth: () => depth(queue), cache: () => cloud.cacheStats });

  const app = await buildApp({ config, log, cloud, probeEc2: probe, redis, queue, tokens, metrics, kube, quotasGiB: quotasGiB(config.CAPACITY_QUOTAS_GIB), version: pkg.version });
  await app.listen({ host, port });
  const url = `${config.API_TLS_CERT ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url }, 'admin API listening');

  let reloadTimer: NodeJS.Timeout | undefined;
  if (loaded.reload) {
    const reload = loaded.reload;
    reloadTimer = setInterval(() => {
      try {
        const specs = reload();
        if (specs) {
          tokens.replace(specs);
          log.info({ tokens: specs.length }, 'API_TOKENS_FILE changed; tokens reloaded');
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'API_TOKENS_FILE could not be reloaded; keeping the previous tokens');
      }
    }, 10_000);
    reloadTimer.unref();
  }
  if (loaded.generated) {
    // The one place a token is printed: a dev API on loopback with generated tokens.
    console.log(
      [
        '',
        `Plinth admin API  ${url}   (docs ${url}/docs)`,
        `viewer token      ${loaded.generated.viewer}`,
        `all tokens        ${loaded.generated.file} (mode 0600; the operator token is there)`,
        `try               curl -H "Authorization: Bearer $(grep ^viewer: ${loaded.generated.file} | cut -d: -f2)" ${url}/v1/capacity`,
        '',
      ].join('\n'),
    );
  }

  onShutdown(log, config.SHUTDOWN_GRACE_MS, [
    { name: 'http', run: () => app.close() },
    { name: 'token-reload', run: () => Promise.resolve(clearInterval(reloadTimer)) },
    { name: 'queue', run: () => queue.close() },
    { name: 'redis', run: () => Promise.allSettled([redis.quit(), queueRedis.quit()]) },
  ]);
}

try {
  await main(loadConfig());
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`plinth-api: ${err.message}`);
    process.exit(2);
  }
  console.error('plinth-api failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
}
