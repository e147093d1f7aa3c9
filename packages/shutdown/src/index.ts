import type { Logger } from '@plinth/logger';

/** One step of a shutdown, given the time left of the grace period. */
export interface Closer {
  name: string;
  run: (graceMs: number) => Promise<unknown>;
}

/**
 * Runs the closers in order, each bounded by the time left of `graceMs`; a
 * failing or hanging step is logged and the next one still runs. Returns the
 * exit code: 0 when every step finished cleanly, 1 otherwise.
 */
export async function runClosers(log: Logger, graceMs: number, steps: readonly Closer[]): Promise<number> {
  const until = Date.now() + graceMs;
  let code = 0;
  for (const step of steps) {
    const left = Math.max(0, until - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        step.run(left),
        new Promise((_r, reject) => {
          timer = setTimeout(() => reject(new Error(`did not finish within ${left} ms`)), left + 50);
        }),
      ]);
    } catch (err) {
      code = 1;
      log.error({ err: (err as Error).message, step: step.name }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
  return code;
}

/** On the first SIGTERM/SIGINT run the closers and exit; a second signal exits at once. */
export function onShutdown(log: Logger, graceMs: number, steps: readonly Closer[], exit: (code: number) => void = (c) => process.exit(c)): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    log.info({ signal, graceMs }, 'shutting down');
    void runClosers(log, graceMs, steps).then((code) => {
      log.info({ clean: code === 0 }, 'stopped');
      exit(code);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
