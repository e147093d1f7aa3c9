import type { Redis } from 'ioredis';

export interface BucketSpec {
  /** Burst size: tokens the bucket holds when full. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

/**
 * EC2's documented request token buckets (per account and region), as defaults.
 * Actions are grouped the way EC2 groups them; unknown actions count as mutating.
 */
export const EC2_DEFAULT_BUCKETS: Record<string, BucketSpec> = {
  describe: { capacity: 100, refillPerSecond: 20 },
  mutating: { capacity: 50, refillPerSecond: 5 },
};

export function bucketFor(action: string): string {
  return action.startsWith('Describe') ? 'describe' : 'mutating';
}

// Atomic token bucket: refill by elapsed time (Redis server clock), then take
// one token or report how long until one is there.
const TAKE = `
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + (now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, math.ceil(capacity * 1000 / rate) + 60000)
return wait
`;

/**
 * A token bucket per action group, kept in Redis so that every controller
 * replica draws from the same buckets and together they stay under the
 * account's API rate.
 */
export class RedisRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly buckets: Record<string, BucketSpec> = EC2_DEFAULT_BUCKETS,
    private readonly prefix = 'plinth:ratelimit:',
  ) {
    redis.defineCommand('plinthTakeToken', { numberOfKeys: 1, lua: TAKE });
  }

  /** Tries to take a token; returns 0 on success, else ms until one is due. */
  async tryTake(bucket: string): Promise<number> {
    const spec = this.buckets[bucket] ?? this.buckets.mutating ?? EC2_DEFAULT_BUCKETS.mutating!;
    const r = this.redis as unknown as { plinthTakeToken(key: string, cap: number, rate: number): Promise<number> };
    return r.plinthTakeToken(this.prefix + bucket, spec.capacity, spec.refillPerSecond);
  }

  /** The last waiter in line per bucket in this process: callers queue here, so only the head asks Redis. */
  private readonly lines = new Map<string, Promise<unknown>>();

  /**
   * Waits until a token of the action's bucket is taken. Returns the ms it slept for one (0: taken at once).
   *
   * Callers of one process wait in line (first come, first served), and only the one at the head asks Redis: an
   * empty bucket with 200 callers costs one attempt per refill, not 200 (each waking at the same moment, one
   * winning, the rest asking again), which was most of the Redis commands and CPU of a rate-limited run.
   */
  async acquire(action: string, signal?: AbortSignal): Promise<number> {
    const bucket = bucketFor(action);
    const ahead = this.lines.get(bucket) ?? Promise.resolve(0);
    const mine = ahead.then(
      () => this.take(bucket, signal),
      () => this.take(bucket, signal),
    );
    const settled = mine.catch(() => undefined);
    this.lines.set(bucket, settled);
    void settled.then(() => {
      if (this.lines.get(bucket) === settled) this.lines.delete(bucket);
    });
    // An aborted caller leaves the line at once; its turn, when it comes, ends at the signal check.
    return signal ? Promise.race([mine, aborted(signal)]) : mine;
  }

  /** Takes a token, sleeping until the bucket has one; returns the ms slept. */
  private async take(bucket: string, signal?: AbortSignal): Promise<number> {
    let slept = 0;
    for (;;) {
      signal?.throwIfAborted();
      const wait = await this.tryTake(bucket);
      if (wait === 0) return slept;
      // A little jitter so replicas do not wake in lock-step.
      const ms = wait + Math.floor(Math.random() * 20);
      await new Promise((r) => setTimeout(r, ms));
      slept += ms;
    }
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

/** Parses "describe=100:20,mutating=50:5" into bucket specs over the defaults. */
export function parseBuckets(spec: string | undefined): Record<string, BucketSpec> {
  const out = { ...EC2_DEFAULT_BUCKETS };
  if (!spec) return out;
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)=(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`bad rate limit "${part}": expected group=capacity:refillPerSecond, e.g. mutating=50:5`);
    const capacity = Number(m[2]);
    const refillPerSecond = Number(m[3]);
    if (capacity < 1 || refillPerSecond <= 0) throw new Error(`bad rate limit "${part}": capacity >= 1 and refill > 0 required`);
    out[m[1]!] = { capacity, refillPerSecond };
  }
  return out;
}
