import { AsyncLocalStorage } from 'node:async_hooks';

/** Wall time during which at least one external wait (EC2 call, state wait, batched look-up) was in progress. */
class ExternalSpan {
  private depth = 0;
  private since = 0;
  ms = 0;

  enter(): void {
    if (this.depth++ === 0) this.since = performance.now();
  }

  leave(): void {
    if (--this.depth === 0) this.ms += performance.now() - this.since;
  }
}

const current = new AsyncLocalStorage<ExternalSpan>();

/** Runs `fn` as time spent waiting on EC2 for the operation measuring it (if any). */
export async function external<T>(fn: () => Promise<T>): Promise<T> {
  const span = current.getStore();
  if (!span) return fn();
  span.enter();
  try {
    return await fn();
  } finally {
    span.leave();
  }
}

/**
 * Runs `fn` and returns its result with the ms it spent waiting on EC2, so
 * the rest of its time — Plinth's own overhead — can be measured.
 */
export async function measureExternal<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const span = new ExternalSpan();
  const value = await current.run(span, fn);
  return [value, span.ms];
}
