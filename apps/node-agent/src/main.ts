import { ConfigError } from '@plinth/config';
import { isPlinthError } from '@plinth/errors';
import { createLogger } from '@plinth/logger';
import { startAgent } from './agent.js';
import { loadConfig } from './config.js';
import { onShutdown } from '@plinth/shutdown';

async function main(): Promise<void> {
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
