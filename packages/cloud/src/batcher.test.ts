import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('serves keys requested together with one fetch', async () => {
    const calls: string[][] = [];
    const b = new Batcher<string, number>(
      (keys) => {
        calls.push(keys);
        return Promise.resolve(new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.length])));
      },
      { windowMs: 5, maxBatch: 100 },
    );
    const [a, bb, again, missing] = await Promise.all([b.get('a'), b.get('bb'), b.get('a'), b.get('missing')]);
    expect([a, bb, again, missing]).toEqual([1, 2, 1, undefined]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.sort()).toEqual(['a', 'bb', 'missing']);
  });

  it('flushes early at maxBatch and fails only the batch whose fetch failed', async () => {
    let n = 0;
    const b = new Batcher<number, number>(
      (keys) => {
        n += 1;
        return keys.includes(3) ? Promise.reject(new Error('down')) : Promise.resolve(new Map(keys.map((k) => [k, k * 10])));
      },
      { windowMs: 1000, maxBatch: 2 },
    );
    const first = Promise.all([b.get(1), b.get(2)]);
    const second = Promise.allSettled([b.get(3), b.get(4)]);
    expect(await first).toEqual([10, 20]);
    const settled = await second;
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(n).toBe(2);
  });
});
