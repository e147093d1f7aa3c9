import { describe, expect, it } from 'vitest';
import { createLogger } from '@plinth/logger';
import { runClosers } from './shutdown.js';

const log = createLogger({ name: 't', level: 'silent' });

describe('runClosers', () => {
  it('runs every step in order and reports a clean stop', async () => {
    const order: string[] = [];
    const step = (name: string) => ({ name, close: () => Promise.resolve(void order.push(name)) });
    expect(await runClosers([step('csi'), step('metrics'), step('redis')], log)).toBe(0);
    expect(order).toEqual(['csi', 'metrics', 'redis']);
  });

  it('bounds a hanging step and still runs the rest, exiting non-zero', async () => {
    const order: string[] = [];
    const started = Date.now();
    const code = await runClosers(
      [
        { name: 'hangs', close: () => new Promise<void>(() => undefined) },
        { name: 'fails', close: () => Promise.reject(new Error('boom')) },
        { name: 'redis', close: () => Promise.resolve(void order.push('redis')) },
      ],
      log,
      100,
    );
    expect(code).toBe(1);
    expect(order).toEqual(['redis']);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
