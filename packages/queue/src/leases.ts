import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

type LeaseRedis = Redis & {
  plinthLeaseRenew(key: string, token: string, ttl: number): Promise<number>;
  plinthLeaseRelease(key: string, token: string): Promise<number>;
};

/**
 * Leases in Redis: mutual exclusion across controller replicas that cannot
 * leak. A holder renews its lease while it works; a holder that dies simply
 * stops renewing and the lease expires after `ttlMs`.
 */
export class Leases {
  private readonly redis: LeaseRedis;

  constructor(
    redis: Redis,
    private readonly ttlMs = 15_000,
    private readonly prefix = 'plinth:lease:',
  ) {
    redis.defineCommand('plinthLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('plinthLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as LeaseRedis;
  }

  /** Takes every key (in sorted order, so two holders cannot deadlock); returns a release function. */
  async acquire(keys: string[], signal?: AbortSignal): Promise<() => Promise<void>> {
    const token = randomUUID();
    const held: string[] = [];
    const sorted = [...new Set(keys)].sort();
    const renew = setInterval(
      () => {
        for (const k of held) void this.redis.plinthLeaseRenew(this.prefix + k, token, this.ttlMs).catch(() => undefined);
      },
      Math.max(250, Math.floor(this.ttlMs / 3)),
    );
    renew.unref();
    const release = async (): Promise<void> => {
      clearInterval(renew);
      await Promise.all(held.map((k) => this.redis.plinthLeaseRelease(this.prefix + k, token)));
    };
    try {
      for (const key of sorted) {
        let delay = 20;
        while ((await this.redis.set(this.prefix + key, token, 'PX', this.ttlMs, 'NX')) !== 'OK') {
          signal?.throwIfAborted();
          await new Promise((r) => setTimeout(r, delay + Math.floor(Math.random() * delay)));
          delay = Math.min(500, delay * 2);
        }
        held.push(key);
      }
    } catch (err) {
      await release();
      throw err;
    }
    return release;
  }
}
