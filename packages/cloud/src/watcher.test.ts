import { createLogger } from '@plinth/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VolumeInfo } from './types.js';
import { VolumeWatcher } from './watcher.js';

const vol = (id: string, state: string): VolumeInfo => ({
  id,
  state,
  sizeGiB: 1,
  type: 'gp3',
  encrypted: false,
  zone: 'z',
  attachments: [],
  tags: {},
  multiAttach: false,
});

const log = createLogger({ name: 'test', level: 'silent' });
const BURST = 4;
const available = (v: VolumeInfo | undefined) => v?.state === 'available';

/** An EC2 whose volumes become available `ms` after `create(id)`; it records every DescribeVolumes call. */
function fakeEc2() {
  const readyAt = new Map<string, number>();
  const calls: { at: number; ids: string[] }[] = [];
  return {
    calls,
    create(id: string, ms: number) {
      readyAt.set(id, Date.now() + ms);
    },
    describe(ids: string[]): Promise<Map<string, VolumeInfo>> {
      calls.push({ at: Date.now(), ids: [...ids].sort() });
      const out = new Map<string, VolumeInfo>();
      for (const id of ids) {
        const at = readyAt.get(id);
        if (at !== undefined) out.set(id, vol(id, Date.now() >= at ? 'available' : 'creating'));
      }
      return Promise.resolve(out);
    },
  };
}

describe('VolumeWatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers a burst of waits with a few shared DescribeVolumes calls, each soon after its transition', async () => {
    const ec2 = fakeEc2();
    const w = new VolumeWatcher((ids) => ec2.describe(ids), { intervalMs: 1000, log });
    const t0 = Date.now();
    const done: number[] = [];
    const waits = Array.from({ length: 10 }, (_, i) => {
      ec2.create(`vol-${i}`, 1600);
      return w.waitFor(`vol-${i}`, available, 60_000, { action: 'create', volumeType: 'gp3' }).then(() => done.push(Date.now() - t0));
    });
    await vi.advanceTimersByTimeAsync(5000);
    await Promise.all(waits);
    expect(done).toHaveLength(10);
    // The prior (1.5 s) misses; the next check (0.1 s later, held to the 0.15 s between two calls) finds all ten.
    expect(ec2.calls.map((c) => c.at - t0)).toEqual([1500, 1650]);
    expect(ec2.calls.every((c) => c.ids.length === 10)).toBe(true);
    expect(Math.max(...done)).toBeLessThanOrEqual(1600 + 250);
  });

  it('learns how long a transition takes, per action and volume type, and checks first near that moment', async () => {
    const ec2 = fakeEc2();
    const w = new VolumeWatcher((ids) => ec2.describe(ids), { intervalMs: 1000, log });
    for (let i = 0; i < 6; i++) {
      ec2.create(`vol-${i}`, 1900);
      const p = w.waitFor(`vol-${i}`, available, 60_000, { action: 'create', volumeType: 'io2' });
      await vi.advanceTimersByTimeAsync(4000);
      await p;
    }
    const learned = w.learned();
    expect(learned['create:io2']).toBeGreaterThan(1700);
    expect(learned['create:io2']).toBeLessThan(2200);
    // A new wait of that kind: its first check comes after 1.7 s, not at the 1.5 s prior, and it is done within 0.25 s.
    ec2.calls.length = 0;
    const t0 = Date.now();
    ec2.create('vol-next', 1900);
    const p = w.waitFor('vol-next', available, 60_000, { action: 'create', volumeType: 'io2' });
    await vi.advanceTimersByTimeAsync(4000);
    await p;
    const checks = ec2.calls.map((c) => c.at - t0);
    expect(checks[0]).toBeGreaterThan(1700);
    expect(checks.at(-1)).toBeLessThanOrEqual(1900 + 250);
  });

  it('spaces calls out when waits keep coming, so a steady stream costs about one call per interval', async () => {
    const ec2 = fakeEc2();
    const w = new VolumeWatcher((ids) => ec2.describe(ids), { intervalMs: 1000, log });
    const waits: Promise<unknown>[] = [];
    // 100 waits arriving 50 ms apart over 5 s, each taking 2 s.
    for (let i = 0; i < 100; i++) {
      ec2.create(`vol-${i}`, 2000);
      waits.push(w.waitFor(`vol-${i}`, available, 60_000, { action: 'attach' }));
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(waits);
    const span = (ec2.calls.at(-1)!.at - ec2.calls[0]!.at) / 1000;
    // A burst of four, then one per second: about 4 + the span in seconds, for 100 waits.
    expect(ec2.calls.length).toBeLessThanOrEqual(BURST + Math.ceil(span) + 1);
    expect(ec2.calls.length).toBeLessThan(100 / 8);
  });

  it('never waits for a prior longer than two intervals (a fast emulator stays fast)', async () => {
    const ec2 = fakeEc2();
    const w = new VolumeWatcher((ids) => ec2.describe(ids), { intervalMs: 100, log });
    const t0 = Date.now();
    ec2.create('vol-a', 0);
    const p = w.waitFor('vol-a', available, 60_000, { action: 'attach' });
    await vi.advanceTimersByTimeAsync(1000);
    await p;
    expect(ec2.calls.map((c) => c.at - t0)).toEqual([200]);
  });

  it('reports a vanished volume as undefined and times out a stuck one', async () => {
    const w = new VolumeWatcher((ids) => Promise.resolve(new Map(ids.filter((i) => i === 'vol-stuck').map((i) => [i, vol(i, 'creating')]))), {
      intervalMs: 5,
      log,
    });
    const gone = w.waitFor('vol-gone', (v) => v === undefined, 1000);
    const stuck = w.waitFor('vol-stuck', (v) => v?.state === 'available', 30);
    const stuckResult = expect(stuck).rejects.toMatchObject({ kind: 'DeadlineExceeded' });
    await vi.advanceTimersByTimeAsync(100);
    await expect(gone).resolves.toBeUndefined();
    await stuckResult;
    expect(w.waiting).toBe(0);
  });

  it('keeps checking after a failed DescribeVolumes and fails a wait only when its time is up', async () => {
    let fail = 2;
    const ec2 = fakeEc2();
    const w = new VolumeWatcher((ids) => (fail-- > 0 ? Promise.reject(new Error('503')) : ec2.describe(ids)), { intervalMs: 100, log });
    ec2.create('vol-a', 0);
    const p = w.waitFor('vol-a', available, 10_000, { action: 'create' });
    await vi.advanceTimersByTimeAsync(2000);
    await expect(p).resolves.toMatchObject({ id: 'vol-a', state: 'available' });
  });
});
