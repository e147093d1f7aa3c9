import type { Logger } from '@plinth/logger';

export type Closer = { name: string; close: () => Promise<void> };

/**
 * Runs the closers in order, each bounded by `timeoutMs`; a failing or hanging
 * step is logged and the next one still runs. Returns the exit code: 0 when
 * every step finished cleanly, 1 otherwise.
 */
export async function runClosers(closers: Closer[], log: Logger, timeoutMs = 15_000): Promise<number> {
  let code = 0;
  for (const c of closers) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.close(),
        new Promise<void>((_r, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      code = 1;
      log.error({ closer: c.name, err: (err as Error).message }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
  log.info({ clean: code === 0 }, 'stopped');
  return code;
}

/**
 * On SIGTERM/SIGINT: stop accepting RPCs and let in-flight ones finish, stop
 * heartbeats, close metrics (the closers, in order), then exit. A second
 * signal exits at once.
 */
export function installShutdown(closers: Closer[], log: Logger, opts: { timeoutMs?: number; exit?: (code: number) => void } = {}): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let running = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (running) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      exit(1);
      return;
    }
    running = true;
    log.info({ signal: sig }, 'shutting down');
    runClosers(closers, log, opts.timeoutMs).then(exit, () => exit(1));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
