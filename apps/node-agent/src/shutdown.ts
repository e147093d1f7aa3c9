import type { Logger } from '@plinth/logger';

export type Closer = { name: string; close: () => Promise<void> };

/**
 * On SIGTERM/SIGINT: runs the closers in order (stop accepting RPCs and let
 * in-flight ones finish, stop heartbeats, close metrics), each bounded, then
 * exits. A second signal exits at once.
 */
export function installShutdown(closers: Closer[], log: Logger, opts: { timeoutMs?: number; exit?: (code: number) => void } = {}): () => Promise<number> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let running: Promise<number> | undefined;
  const shutdown = (): Promise<number> => {
    running ??= (async () => {
      let code = 0;
      for (const c of closers) {
        try {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            c.close(),
            new Promise<void>((_r, reject) => {
              timer = setTimeout(() => reject(new Error('timed out')), opts.timeoutMs ?? 15_000);
            }),
          ]).finally(() => clearTimeout(timer));
        } catch (err) {
          code = 1;
          log.error({ closer: c.name, err: (err as Error).message }, 'shutdown step failed');
        }
      }
      log.info({ clean: code === 0 }, 'stopped');
      return code;
    })();
    return running;
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (running) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      exit(1);
      return;
    }
    log.info({ signal: sig }, 'shutting down');
    shutdown().then(exit, () => exit(1));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return shutdown;
}
