import { createLogger } from '@plinth/logger';
import { describe, expect, it } from 'vitest';
import { runClosers } from './index.js';

const log = createLogger({ name: 't', level: 'silent' });

describe('runClosers', () => {
  it('runs every step in order and reports a clean stop', async () => {
    const order: string[] = [];
    const step = (name: string) => ({ name, run: () => Promise.resolve(void order.push(name)) });
    expect(await runClosers(log, 1000, [step('csi'), step('metrics'), step('redis')])).toBe(0);
    expect(order).toEqual(['csi', 'metrics', 'redis']);
  });

  it('bounds a hanging step and still runs the rest, exiting non-zero', async () => {
    const order: string[] = [];
    const started = Date.now();
    const code = await runClosers(log, 100, [
      { name: 'hangs', run: () => new Promise<void>(() => undefined) },
      { name: 'fails', run: () => Promise.reject(new Error('boom')) },
      { name: 'redis', run: () => Promise.resolve(void order.push('redis')) },
    ]);
    expect(code).toBe(1);
    expect(order).toEqual(['redis']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('gives each step the time left of the grace period', async () => {
    const given: number[] = [];
    await runClosers(log, 300, [
      { name: 'slow', run: (ms) => (given.push(ms), new Promise((r) => setTimeout(r, 100))) },
      { name: 'next', run: (ms) => Promise.resolve(given.push(ms)) },
    ]);
    expect(given[0]).toBeGreaterThan(250);
    expect(given[1]).toBeLessThan(220);
  });
});
