import type { Logger } from '@plinth/logger';

export interface Closer {
  name: string;
  run: (graceMs: number) => Promise<unknown>;
}

/** Runs the closers in order, each with the time left of graceMs; returns the exit code (1 if any failed). */
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
export function onShutdown(log: Logger, graceMs: number, steps: readonly Closer[]): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, graceMs }, 'shutting down');
    void runClosers(log, graceMs, steps).then((code) => {
      log.info('stopped');
      process.exit(code);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
