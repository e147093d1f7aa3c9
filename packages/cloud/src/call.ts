import type { Logger } from '@plinth/logger';
import pRetry from 'p-retry';
import { ec2Code, isThrottle, isTransient, mapEc2Error } from './errors.js';
import type { RedisRateLimiter } from './limiter.js';
import { external } from './timing.js';

export type CallOutcome = 'ok' | 'error' | 'throttled';

/** Sees every EC2 request Plinth sends (for metrics and the benchmark). */
export interface Ec2Observer {
  /** `code`: EC2's error code of a failed attempt (`RequestLimitExceeded`, `InvalidVolume.NotFound`, …), when it gave one. */
  onCall(action: string, outcome: CallOutcome, seconds: number, code?: string): void;
}

export interface Ec2Options {
  log: Logger;
  limiter?: RedisRateLimiter | undefined;
  observer?: Ec2Observer | undefined;
  /** How long one logical call may keep retrying transient failures (default 120 s; 0: never retried). */
  retryBudgetMs?: number | undefined;
}

/**
 * One logical EC2 call: every attempt passes the shared rate limiter,
 * throttling and transient failures are retried with backoff while the budget
 * lasts, each attempt is observed for metrics, and a failure ends as a domain
 * error. The real adapter and the in-memory cloud both call through here.
 */
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;
const DEFAULT_RETRY_BUDGET_MS = 120_000;

/**
 * Retries that fit in a time budget with exponential backoff from MIN to MAX_BACKOFF_MS (before jitter, which only
 * lengthens waits). p-retry computes every attempt's timeout up front, so a count sized to the budget (29 for
 * 120 s) instead of a large constant keeps each EC2 call from allocating a thousand of them.
 */
export function retriesWithin(budgetMs: number): number {
  let retries = 0;
  for (let spent = 0, next = MIN_BACKOFF_MS; spent < budgetMs; next *= 2, retries++) spent += Math.min(next, MAX_BACKOFF_MS);
  return retries;
}

const retryCounts = new Map<number, number>();

export async function callEc2<T>(
  opts: Ec2Options,
  action: string,
  what: string,
  call: (signal: AbortSignal | undefined) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const { limiter, observer, log } = opts;
  try {
    return await external(() =>
      pRetry(
        async () => {
          if (limiter) await limiter.acquire(action, signal);
          const t0 = performance.now();
          try {
            const out = await call(signal);
            observer?.onCall(action, 'ok', (performance.now() - t0) / 1000);
            return out;
          } catch (err) {
            observer?.onCall(action, isThrottle(err) ? 'throttled' : 'error', (performance.now() - t0) / 1000, ec2Code(err));
            throw err;
          }
        },
        {
          retries: retryCount(opts.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS),
          minTimeout: MIN_BACKOFF_MS,
          maxTimeout: MAX_BACKOFF_MS,
          factor: 2,
          randomize: true,
          maxRetryTime: opts.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS,
          ...(signal ? { signal } : {}),
          shouldRetry: (err) => isTransient(err),
          onFailedAttempt: (err) => {
            if (isTransient(err)) log.debug({ action, what, attempt: err.attemptNumber, code: (err as { name?: string }).name }, 'EC2 call retried');
          },
        },
      ),
    );
  } catch (err) {
    throw mapEc2Error(err, action, what);
  }
}

function retryCount(budgetMs: number): number {
  let n = retryCounts.get(budgetMs);
  if (n === undefined) retryCounts.set(budgetMs, (n = retriesWithin(budgetMs)));
  return n;
}
