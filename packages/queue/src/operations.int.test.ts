import { createLogger } from '@plinth/logger';
import { failedPrecondition, unavailable } from '@plinth/errors';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshRedis } from '../../../test/support/ec2.js';
import { requireStack } from '../../../test/support/stack.js';
import { defineOperation, differingFields, later } from './operation.js';
import { Operations } from './operations.js';
import { z } from 'zod';

interface SlowJob {
  key: string;
  id: string;
  ms: number;
  size?: number;
}
const slow = defineOperation<SlowJob, string>({
  name: 'slow',
  data: z.object({ key: z.string(), id: z.string(), ms: z.number(), size: z.number().optional() }),
  key: (d) => d.key,
  locks: (d) => [`thing:${d.id}`],
  describe: (d) => `thing ${d.key}`,
  conflicts: (mine, theirs) => differingFields(mine, theirs, { size: 'size' }),
});
const refuse = defineOperation<{ id: string }, string>({
  name: 'refuse',
  data: z.object({ id: z.string() }),
  key: (d) => d.id,
  locks: () => [],
  describe: (d) => d.id,
});
const flakyOp = defineOperation<{ id: string }, string>({
  name: 'flaky',
  data: z.object({ id: z.string() }),
  key: (d) => d.id,
  locks: () => [],
  describe: (d) => d.id,
});

const stepped = defineOperation<{ id: string; steps: number }, string>({
  name: 'stepped',
  data: z.object({ id: z.string(), steps: z.number() }),
  key: (d) => d.id,
  locks: (d) => [`thing:${d.id}`],
  describe: (d) => d.id,
});

const log = createLogger({ name: 'test', level: 'silent' });
const steps: Record<string, number> = {};
let url: string;
let ops: Operations;
const runs: Record<string, number> = {};
let active = 0;
let maxActive = 0;
let flaky = 0;

beforeAll(async () => {
  url = await freshRedis(requireStack().redisUrl, 3);
  ops = new Operations({ redisUrl: url, log, attempts: 3, keepCompleted: { age: 3600, count: 5 } });
  ops.handle(slow, async (d) => {
    runs[d.id] = (runs[d.id] ?? 0) + 1;
    active += 1;
    maxActive = Math.max(maxActive, active);
    await new Promise((r) => setTimeout(r, d.ms));
    active -= 1;
    return `done ${d.id}`;
  });
  ops.handle(refuse, (d) => Promise.reject(failedPrecondition(`thing ${d.id} is busy`)));
  ops.handle(stepped, (d) => {
    steps[d.id] = (steps[d.id] ?? 0) + 1;
    return steps[d.id]! < d.steps ? Promise.reject(later(150, 'not yet')) : Promise.resolve(`done ${d.id} in ${steps[d.id]}`);
  });
  ops.handle(flakyOp, () => (++flaky < 2 ? Promise.reject(unavailable('cloud hiccup')) : Promise.resolve('recovered')));
  await ops.start();
});

afterAll(async () => {
  await ops?.close(1000);
});

describe('Operations (BullMQ on real Redis)', () => {
  it('joins concurrent calls with the same key to one job', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => ops.run(slow, { key: 'a', id: 'a', ms: 300 }, Date.now() + 10_000)));
    expect(new Set(results)).toEqual(new Set(['done a']));
    expect(runs.a).toBe(1);
  });

  it('a call joining an in-flight job with a different request is ALREADY_EXISTS naming the field; a compatible one shares the result', async () => {
    const first = ops.run(slow, { key: 'j', id: 'j', ms: 400, size: 4 }, Date.now() + 10_000);
    await new Promise((r) => setTimeout(r, 50));
    const differing = ops.run(slow, { key: 'j', id: 'j', ms: 400, size: 8 }, Date.now() + 10_000);
    const same = ops.run(slow, { key: 'j', id: 'j', ms: 400, size: 4 }, Date.now() + 10_000);
    await expect(differing).rejects.toMatchObject({
      kind: 'AlreadyExists',
      message: expect.stringMatching(/^thing j is already being handled .*: size 8, not 4$/) as unknown,
    });
    await expect(Promise.all([first, same])).resolves.toEqual(['done j', 'done j']);
    expect(runs.j).toBe(1);
  });

  it('serialises operations holding the same lease', async () => {
    maxActive = 0;
    await Promise.all([
      ops.run(slow, { key: 'b1', id: 'b', ms: 200 }, Date.now() + 10_000),
      ops.run(slow, { key: 'b2', id: 'b', ms: 200 }, Date.now() + 10_000),
    ]);
    expect(runs.b).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('returns a domain refusal to the caller with its kind and message, without retrying', async () => {
    await expect(ops.run(refuse, { id: 'c' }, Date.now() + 10_000)).rejects.toMatchObject({ kind: 'FailedPrecondition', message: 'thing c is busy' });
  });

  it('retries a transient failure and delivers the later success', async () => {
    await expect(ops.run(flakyOp, { id: 'd' }, Date.now() + 20_000)).resolves.toBe('recovered');
    expect(flaky).toBe(2);
  });

  it('answers DEADLINE_EXCEEDED when the caller’s deadline passes, and the job carries on', async () => {
    await expect(ops.run(slow, { key: 'e', id: 'e', ms: 1500 }, Date.now() + 500)).rejects.toMatchObject({ kind: 'DeadlineExceeded' });
    await expect(ops.run(slow, { key: 'e', id: 'e', ms: 1500 }, Date.now() + 5000)).resolves.toBe('done e');
    expect(runs.e).toBe(1);
  });

  it('abandonWaits fails the waiting calls at once with the given error; the job carries on and a retry joins it', async () => {
    const waiting = ops.run(slow, { key: 'ab', id: 'ab', ms: 1500 }, Date.now() + 10_000);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    expect(ops.abandonWaits(unavailable('EC2 is unreachable: test'))).toBe(1);
    await expect(waiting).rejects.toMatchObject({ kind: 'Unavailable', message: 'EC2 is unreachable: test' });
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(ops.run(slow, { key: 'ab', id: 'ab', ms: 1500 }, Date.now() + 10_000)).resolves.toBe('done ab');
    expect(runs.ab).toBe(1);
  });

  it('holds a delayed job for its window: calls with the same key meanwhile join it, a later call starts another', async () => {
    const t0 = Date.now();
    const first = ops.run(slow, { key: 'w', id: 'w', ms: 1 }, Date.now() + 10_000, { delayMs: 800 });
    await new Promise((r) => setTimeout(r, 300));
    const second = ops.run(slow, { key: 'w', id: 'w', ms: 1 }, Date.now() + 10_000, { delayMs: 800 });
    expect(await Promise.all([first, second])).toEqual(['done w', 'done w']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(750);
    expect(runs.w).toBe(1);
    await expect(ops.run(slow, { key: 'w', id: 'w', ms: 1 }, Date.now() + 10_000, { delayMs: 100 })).resolves.toBe('done w');
    expect(runs.w).toBe(2);
  });

  it('runs a job that continues later step by step: past its attempts, without holding its lease between steps, joined by submits and calls', async () => {
    const id = await ops.submit(stepped, { id: 's', steps: 8 });
    expect(await ops.submit(stepped, { id: 's', steps: 8 })).toBe(id);
    // The lease thing:s is free while the job waits between steps: an operation holding it runs meanwhile.
    await expect(ops.run(slow, { key: 's-other', id: 's', ms: 1 }, Date.now() + 10_000)).resolves.toBe('done s');
    // A call with the key joins the job and gets its final result (8 steps, more than the 3 attempts).
    await expect(ops.run(stepped, { id: 's', steps: 8 }, Date.now() + 20_000)).resolves.toBe('done s in 8');
    expect(steps.s).toBe(8);
  });

  it('trims finished job records', async () => {
    for (let i = 0; i < 12; i++) await ops.run(slow, { key: `t${i}`, id: `t${i}`, ms: 1 }, Date.now() + 5000);
    const r = new Redis(url);
    const completed = await r.zcard('plinth:plinth-ops:completed');
    r.disconnect();
    expect(completed).toBeLessThanOrEqual(6);
  });
});
