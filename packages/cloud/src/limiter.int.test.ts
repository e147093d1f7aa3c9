import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
