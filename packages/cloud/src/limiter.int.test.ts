import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshRedis } from '../../../test/support/ec2.js';
import { requireStack } from '../../../test/support/stack.js';
import { RedisRateLimiter } from './limiter.js';

let a: Redis;
let b: Redis;

beforeAll(async () => {
  const url = await freshRedis(requireStack().redisUrl, 4);
  a = new Redis(url);
  b = new Redis(url);
});

afterAll(() => {
  a?.disconnect();
  b?.disconnect();
});

describe('RedisRateLimiter', () => {
  it('shares one token bucket between limiter instances (replicas)', async () => {
    const buckets = { mutating: { capacity: 4, refillPerSecond: 10 }, describe: { capacity: 100, refillPerSecond: 100 } };
    const one = new RedisRateLimiter(a, buckets, 'test:rl:');
    const two = new RedisRateLimiter(b, buckets, 'test:rl:');
    const waits = [await one.tryTake('mutating'), await two.tryTake('mutating'), await one.tryTake('mutating'), await two.tryTake('mutating')];
    expect(waits).toEqual([0, 0, 0, 0]);
    const fifth = await two.tryTake('mutating');
    expect(fifth).toBeGreaterThan(0);
    expect(fifth).toBeLessThanOrEqual(100);
    // acquire waits for the refill instead of failing
    const t0 = Date.now();
    await one.acquire('CreateVolume');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
  });

  it('keeps describes in their own bucket', async () => {
    const lim = new RedisRateLimiter(a, { mutating: { capacity: 1, refillPerSecond: 0.1 }, describe: { capacity: 5, refillPerSecond: 1 } }, 'test:rl2:');
    expect(await lim.tryTake('mutating')).toBe(0);
    expect(await lim.tryTake('mutating')).toBeGreaterThan(0);
    expect(await lim.acquire('DescribeVolumes')).toBe(0);
  });

  it('serves waiting callers of one process in line, so an empty bucket costs about one Redis attempt per token', async () => {
    const lim = new RedisRateLimiter(a, { mutating: { capacity: 1, refillPerSecond: 40 }, describe: { capacity: 5, refillPerSecond: 1 } }, 'test:rl3:');
    const attempts = vi.spyOn(lim, 'tryTake');
    const order: number[] = [];
    await Promise.all(Array.from({ length: 20 }, (_, i) => lim.acquire('AttachVolume').then(() => order.push(i))));
    // 20 tokens at 40/s: each caller asks once or twice, never once per other waiter.
    expect(attempts.mock.calls.length).toBeLessThanOrEqual(45);
    expect(order).toEqual([...order].sort((x, y) => x - y));
  });

  it('lets a caller whose signal aborts leave the line without holding up the next', async () => {
    const lim = new RedisRateLimiter(a, { mutating: { capacity: 1, refillPerSecond: 2 }, describe: { capacity: 5, refillPerSecond: 1 } }, 'test:rl4:');
    await lim.acquire('AttachVolume');
    const gone = new AbortController();
    const first = lim.acquire('AttachVolume', gone.signal);
    const second = lim.acquire('AttachVolume');
    gone.abort(new Error('caller gone'));
    await expect(first).rejects.toThrow('caller gone');
    await expect(second).resolves.toBeGreaterThanOrEqual(0);
  });
});
