import { readFileSync } from 'node:fs';
import { ConfigError } from '@plinth/config';
import { createLogger } from '@plinth/logger';
import { describeRedis, redisSettings } from '@plinth/redis';
import { buildApp } from './app.js';
import { loadTokens, TokenStore } from './auth.js';
import { isLoopback, loadConfig, splitAddress, type ApiConfig } from './config.js';
import { onShutdown } from '@plinth/shutdown';
import { createDeps } from './wiring.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

async function main(config: ApiConfig): Promise<void> {
  const log = createLogger({ name: 'plinth-api', level: config.LOG_LEVEL });
  const { host, port } = splitAddress(config.API_ADDRESS);
  const loaded = loadTokens(config, isLoopback(host));
  const tokens = new TokenStore(loaded.specs);
  log.info(
    {
      version: pkg.version,
      cluster: config.PLINTH_CLUSTER_ID,
      redis: describeRedis(redisSettings(config)!),
      region: config.AWS_REGION,
      ec2: config.EC2_ENDPOINT ?? 'aws',
      tokens: tokens.size,
      tls: Boolean(config.API_TLS_CERT),
    },
    'starting admin API',
  );

  const { deps, close } = await createDeps(config, log, tokens, pkg.version);
  log.info(
    { kubernetes: Boolean(deps.kube), mode: config.API_KUBERNETES },
    deps.kube ? 'Kubernetes is a node source' : 'Kubernetes is not a node source (no kubeconfig, or API_KUBERNETES=off)',
  );
  const app = await buildApp(deps);
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
    { name: 'connections', run: () => close() },
  ]);
}

try {
  await main(loadConfig());
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`plinth-api: ${err.message}`);
    process.exit(err.exitCode);
  }
  console.error('plinth-api failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
}
