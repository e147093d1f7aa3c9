import type { Logger } from '@plinth/logger';

/**
 * Runs `steps` in order once, on the first SIGTERM or SIGINT; a second signal
 * exits at once. Each step is given the time left of `graceMs`.
 */
export function onShutdown(log: Logger, graceMs: number, steps: { name: string; run: (graceMs: number) => Promise<unknown> }[]): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, graceMs }, 'shutting down');
    const until = Date.now() + graceMs;
    void (async () => {
      let code = 0;
      for (const step of steps) {
        try {
          await step.run(Math.max(0, until - Date.now()));
        } catch (err) {
          code = 1;
          log.error({ err, step: step.name }, 'shutdown step failed');
        }
      }
      log.info('stopped');
      process.exit(code);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
