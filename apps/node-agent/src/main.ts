import { ConfigError } from '@plinth/config';
import { isPlinthError } from '@plinth/errors';
import { createLogger } from '@plinth/logger';
import { startAgent } from './agent.js';
import { loadConfig, loadPreStopConfig } from './config.js';
import { kubernetesSource, preStop } from './pre-stop.js';
import { onShutdown } from '@plinth/shutdown';

async function main(): Promise<void> {
  // The DaemonSet's preStop hook: `node dist/node-agent.mjs pre-stop`.
  if (process.argv[2] === 'pre-stop') {
    const cfg = loadPreStopConfig();
    const log = createLogger({ name: 'node-agent-pre-stop', level: cfg.LOG_LEVEL });
    const result = await preStop(await kubernetesSource(cfg.KUBE_NODE_NAME, cfg.PLINTH_DRIVER_NAME), { timeoutMs: cfg.PRE_STOP_TIMEOUT_MS, log });
    log.info(result, 'pre-stop done');
    // Time running out is not a failure of the hook: kubelet stops the pod either way.
    process.exit(0);
  }
  const cfg = loadConfig();
  const log = createLogger({ name: 'node-agent', level: cfg.LOG_LEVEL });
  try {
    const agent = await startAgent(cfg, log);
    onShutdown(log, 15_000, agent.closers);
  } catch (err) {
    if (isPlinthError(err)) {
      log.fatal({ kind: err.kind }, `cannot start: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`plinth-node-agent: ${err.message}`);
    process.exit(err.exitCode);
  }
  console.error('node agent failed to start:', err);
  process.exit(1);
});
