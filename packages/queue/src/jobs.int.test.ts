import { createLogger } from '@plinth/logger';
import { failedPrecondition, unavailable } from '@plinth/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshRedis } from '../../../test/support/ec2.js';
import { requireStack } from '../../../test/support/stack.js';
import { Jobs, type JobRecord } from './jobs.js';
import { defineOperation } from './operation.js';
import { Operations } from './operations.js';
import { z } from 'zod';

const keyed = z.object({ key: z.string(), id: z.string().optional() });
const common = { key: (d: { key: string }) => d.key, locks: () => [], describe: (d: { key: string }) => d.key };
const okOp = defineOperation<{ key: string; n: number }, { doubled: number }>({ name: 'ok', data: z.object({ key: z.string(), n: z.number() }), ...common });
const refuseOp = defineOperation<z.infer<typeof keyed>, string>({ name: 'refuse', data: keyed, ...common });
const brokenOp = defineOperation<z.infer<typeof keyed>, string>({ name: 'broken', data: keyed, ...common });
const holdOp = defineOperation<z.infer<typeof keyed>, string>({ name: 'hold', data: keyed, ...common });

const log = createLogger({ name: 'test', level: 'silent' });
let url: string;
let ops: Operations;
let jobs: Jobs;
let brokenFixed = false;
let release: (() => void) | undefined;

const soon = () => Date.now() + 10_000;

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function only(states: JobRecord['state'][], operation: string): Promise<JobRecord> {
  const page = await jobs.list({ states, operation });
  expect(page.items).toHaveLength(1);
  return page.items[0]!;
}

beforeAll(async () => {
  url = await freshRedis(requireStack().redisUrl, 7);
  ops = new Operations({ redisUrl: url, log, attempts: 1 });
  ops.handle(okOp, (d) => Promise.resolve({ doubled: d.n * 2 }));
  ops.handle(refuseOp, (d) => Promise.reject(failedPrecondition(`thing ${d.id} is busy`)));
  ops.handle(brokenOp, () => (brokenFixed ? Promise.resolve('fixed') : Promise.reject(unavailable('EC2 is down'))));
  ops.handle(holdOp, () => new Promise<string>((r) => (release = () => r('released'))));
  await ops.start();
  jobs = new Jobs({ redisUrl: url });
}, 30_000);

afterAll(async () => {
  release?.();
  await jobs?.close();
  await ops?.close(1000);
});

describe('Jobs: the queue read side on real Redis', () => {
  it("shows a completed job with its result, a refused one and a failed one with Plinth's serialized errors", async () => {
    await ops.run(okOp, { key: 'k-ok', n: 21 }, soon());
    await expect(ops.run(refuseOp, { key: 'k-refuse', id: 'c' }, soon())).rejects.toMatchObject({ kind: 'FailedPrecondition' });
    await expect(ops.run(brokenOp, { key: 'k-broken', id: 'b' }, soon())).rejects.toMatchObject({ kind: 'Unavailable' });

    const ok = await only(['completed'], 'ok');
    expect(ok).toMatchObject({
      operation: 'ok',
      key: 'k-ok',
      state: 'completed',
      outcome: 'ok',
      result: { doubled: 42 },
      error: null,
      data: { key: 'k-ok', n: 21 },
      attemptsMade: 1,
      attempts: 1,
    });
    expect(ok.startedAt).toBeGreaterThanOrEqual(ok.createdAt);
    expect(ok.finishedAt).toBeGreaterThanOrEqual(ok.startedAt!);
    // Plinth's view only: no queue internals.
    expect(Object.keys(ok).sort()).toEqual([
      'attempts',
      'attemptsMade',
      'createdAt',
      'data',
      'error',
      'finishedAt',
      'id',
      'key',
      'operation',
      'outcome',
      'result',
      'startedAt',
      'state',
    ]);

    expect(await only(['completed'], 'refuse')).toMatchObject({
      key: 'k-refuse',
      outcome: 'refused',
      error: { kind: 'FailedPrecondition', message: 'thing c is busy' },
      result: null,
    });
    const failed = await only(['failed'], 'broken');
    expect(failed).toMatchObject({
      key: 'k-broken',
      state: 'failed',
      outcome: 'failed',
      error: { kind: 'Unavailable', message: 'EC2 is down' },
      attemptsMade: 1,
    });
    expect(await jobs.get(failed.id)).toEqual(failed);

    expect(await jobs.counts()).toMatchObject({ completed: 2, failed: 1, active: 0, waiting: 0, delayed: 0 });
    const depth = await jobs.depth();
    expect(depth).toContainEqual({ state: 'completed', operation: 'ok', count: 1 });
    expect(depth).toContainEqual({ state: 'failed', operation: 'broken', count: 1 });
  });

  it('pages through jobs newest first', async () => {
    for (let i = 0; i < 5; i++) await ops.run(okOp, { key: `page-${i}`, n: i }, soon());
    const seen: string[] = [];
    let offset: number | null = 0;
    const sizes: number[] = [];
    while (offset !== null) {
      const page = await jobs.list({ states: ['completed'], where: (j) => j.key.startsWith('page-'), offset, limit: 2 });
      sizes.push(page.items.length);
      seen.push(...page.items.map((j) => j.key));
      offset = page.nextOffset;
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    expect((await jobs.list({ states: ['completed'], operation: 'ok', limit: 100 })).items).toHaveLength(6);
  });

  it('retries a failed job: back in the queue with its attempts reset, and it runs again', async () => {
    const failed = await only(['failed'], 'broken');
    brokenFixed = true;
    const again = await jobs.retry(failed.id);
    expect(again.id).toBe(failed.id);
    expect(['waiting', 'active', 'completed']).toContain(again.state);
    await until('the retried job to complete', async () => (await jobs.get(failed.id))?.state === 'completed');
    expect(await jobs.get(failed.id)).toMatchObject({ outcome: 'ok', result: 'fixed', attemptsMade: 1, error: null });
    await expect(jobs.retry(failed.id)).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: `job ${failed.id} is completed; only failed jobs can be retried`,
    });
  });

  it('cancels a delayed job; refuses to remove a running one; unknown ids are NotFound', async () => {
    await expect(ops.run(okOp, { key: 'later', n: 1 }, Date.now() + 400, { delayMs: 60_000 })).rejects.toMatchObject({ kind: 'DeadlineExceeded' });
    const delayed = await only(['delayed'], 'ok');
    expect(delayed).toMatchObject({ key: 'later', state: 'delayed', outcome: null });
    const removed = await jobs.cancel(delayed.id);
    expect(removed).toMatchObject({ id: delayed.id, state: 'delayed', key: 'later' });
    expect(await jobs.get(delayed.id)).toBeUndefined();
    expect((await jobs.counts()).delayed).toBe(0);
    await expect(jobs.cancel(delayed.id)).rejects.toMatchObject({ kind: 'NotFound' });
    await expect(jobs.retry('999999')).rejects.toMatchObject({ kind: 'NotFound' });

    const held = ops.run(holdOp, { key: 'held' }, soon());
    await until('the held job to run', async () => (await jobs.list({ states: ['active'] })).items.length === 1);
    const active = await only(['active'], 'hold');
    await expect(jobs.cancel(active.id)).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: `job ${active.id} is running; it can be removed once it has finished or failed`,
    });
    release!();
    await expect(held).resolves.toBe('released');
  });

  it('reads the queue it is given: another name or prefix is another queue', async () => {
    const other = new Jobs({ redisUrl: url, prefix: 'elsewhere' });
    const otherName = new Jobs({ redisUrl: url, queueName: 'not-plinth-ops' });
    try {
      expect(Object.values(await other.counts()).every((n) => n === 0)).toBe(true);
      expect((await otherName.list()).items).toEqual([]);
      expect((await jobs.list()).items.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([other.close(), otherName.close()]);
    }
  });
});
