import { describe, expect, it } from 'vitest';
import { external, measureExternal } from './timing.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('external time', () => {
  it('counts overlapping external waits once and leaves own work out', async () => {
    const [value, ms] = await measureExternal(async () => {
      await Promise.all([external(() => sleep(100)), external(() => sleep(100))]);
      await sleep(50); // own work
      return 'done';
    });
    expect(value).toBe('done');
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(ms).toBeLessThan(140);
  });

  it('is a no-op outside a measurement', async () => {
    await expect(external(() => Promise.resolve(1))).resolves.toBe(1);
  });
});
