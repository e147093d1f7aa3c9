import { createLogger } from '@plinth/logger';
import { failedPrecondition, unavailable } from '@plinth/errors';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshRedis } from '../../../test/support/ec2.js';
import { requireStack } from '../../../test/support/stack.js';
import { Operations } from './operations.js';

const log = createLogger({ name: 'test', level: 'silent' });
let url: string;
let ops: Operations;
const runs: Record<string, number> = {};
let active = 0;
let maxActive = 0;
let flaky = 0;

beforeAll(async () => {
  url = await freshRedis(requireStack().redisUrl, 3);
  ops = new Operations({ redisUrl: url, log, attempts: 3, keepCompleted: { age: 3600, count: 5 } });
  ops.define<{ id: string; ms: number }, string>('slow', {
    locks: (d) => [`thing:${d.id}`],
    async run(d) {
      runs[d.id] = (runs[d.id] ?? 0) + 1;
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, d.ms));
      active -= 1;
      return `done ${d.id}`;
    },
  });
  ops.define<{ id: string }, string>('refuse', { locks: () => [], run: (d) => Promise.reject(failedPrecondition(`thing ${d.id} is busy`)) });
  ops.define<{ id: string }, string>('flaky', {
    locks: () => [],
    run: () => (++flaky < 2 ? Promise.reject(unavailable('cloud hiccup')) : Promise.resolve('recovered')),
  });
  await ops.start();
});

afterAll(async () => {
  await ops?.close(1000);
});

describe('Operations (BullMQ on real Redis)', () => {
  it('joins concurrent calls with the same key to one job', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => ops.run<string>('slow', 'a', { id: 'a', ms: 300 }, Date.now() + 10_000)));
    expect(new Set(results)).toEqual(new Set(['done a']));
    expect(runs.a).toBe(1);
  });

  it('serialises operations holding the same lease', async () => {
    maxActive = 0;
    await Promise.all([ops.run('slow', 'b1', { id: 'b', ms: 200 }, Date.now() + 10_000), ops.run('slow', 'b2', { id: 'b', ms: 200 }, Date.now() + 10_000)]);
    expect(runs.b).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('returns a domain refusal to the caller with its kind and message, without retrying', async () => {
    await expect(ops.run('refuse', 'c', { id: 'c' }, Date.now() + 10_000)).rejects.toMatchObject({ kind: 'FailedPrecondition', message: 'thing c is busy' });
  });

  it('retries a transient failure and delivers the later success', async () => {
    await expect(ops.run('flaky', 'd', { id: 'd' }, Date.now() + 20_000)).resolves.toBe('recovered');
    expect(flaky).toBe(2);
  });

  it('answers DEADLINE_EXCEEDED when the caller’s deadline passes, and the job carries on', async () => {
    await expect(ops.run('slow', 'e', { id: 'e', ms: 1500 }, Date.now() + 500)).rejects.toMatchObject({ kind: 'DeadlineExceeded' });
    await expect(ops.run<string>('slow', 'e', { id: 'e', ms: 1500 }, Date.now() + 5000)).resolves.toBe('done e');
    expect(runs.e).toBe(1);
  });

  it('holds a delayed job for its window: calls with the same key meanwhile join it, a later call starts another', async () => {
    const t0 = Date.now();
    const first = ops.run<string>('slow', 'w', { id: 'w', ms: 1 }, Date.now() + 10_000, { delayMs: 800 });
    await new Promise((r) => setTimeout(r, 300));
    const second = ops.run<string>('slow', 'w', { id: 'w', ms: 1 }, Date.now() + 10_000, { delayMs: 800 });
    expect(await Promise.all([first, second])).toEqual(['done w', 'done w']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(750);
    expect(runs.w).toBe(1);
    await expect(ops.run<string>('slow', 'w', { id: 'w', ms: 1 }, Date.now() + 10_000, { delayMs: 100 })).resolves.toBe('done w');
    expect(runs.w).toBe(2);
  });

  it('trims finished job records', async () => {
    for (let i = 0; i < 12; i++) await ops.run('slow', `t${i}`, { id: `t${i}`, ms: 1 }, Date.now() + 5000);
    const r = new Redis(url);
    const completed = await r.zcard('plinth:plinth-ops:completed');
    r.disconnect();
    expect(completed).toBeLessThanOrEqual(6);
  });
});
