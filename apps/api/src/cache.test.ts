import { describe, expect, it } from 'vitest';
import { TtlCache } from './cache.js';

describe('TtlCache', () => {
  it('coalesces concurrent loads into one and serves from cache within the TTL', async () => {
    let now = 0;
    const cache = new TtlCache<number>(1000, () => now);
    let calls = 0;
    const load = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return calls;
    };
    const all = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', load)));
    expect(new Set(all)).toEqual(new Set([1]));
    expect(calls).toBe(1);
    now = 999;
    expect(await cache.get('k', load)).toBe(1);
    now = 1000;
    expect(await cache.get('k', load)).toBe(2);
  });

  it('does not cache failures', async () => {
    const cache = new TtlCache<string>(1000);
    await expect(cache.get('k', () => Promise.reject(new Error('EC2 down')))).rejects.toThrow('EC2 down');
    expect(await cache.get('k', () => Promise.resolve('ok'))).toBe('ok');
  });
});
