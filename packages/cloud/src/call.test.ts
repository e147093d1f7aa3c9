import { describe, expect, it } from 'vitest';
import { retriesWithin } from './call.js';

describe('retriesWithin', () => {
  it('counts the backoff steps (0.1 s doubling to 5 s) that fit in the retry budget, so p-retry precomputes only those', () => {
    expect(retriesWithin(0)).toBe(0);
    // 0.1 + 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s, then 5 s steps until 120 s are covered.
    expect(retriesWithin(120_000)).toBe(29);
    expect(retriesWithin(1_000)).toBe(4);
  });
});
