import { deadlineExceeded } from '@plinth/errors';
import type { Logger } from '@plinth/logger';
import { external } from './timing.js';
import { TransitionTimes, type Transition } from './transition-times.js';
import type { VolumeInfo } from './types.js';

export type { Transition } from './transition-times.js';

interface Waiter {
  volumeId: string;
  until: (v: VolumeInfo | undefined) => boolean;
  resolve: (v: VolumeInfo | undefined) => void;
  reject: (e: unknown) => void;
  transition: Transition | undefined;
  started: number;
  expires: number;
  /** When this waiter's next check is due. */
  due: number;
  /** The wait before the check after next (grows ×1.5 up to intervalMs). */
  step: number;
  /** When its last check found the transition unfinished (0: not checked yet). */
  lastMiss: number;
}

export interface WatcherOptions {
  /** Longest time between two checks of one waiting volume (EC2_POLL_INTERVAL_MS). */
  intervalMs: number;
  log: Logger;
}

/** The first step after a missed check; steps grow ×1.5 up to intervalMs. */
const FIRST_STEP_MS = 100;
/** Fewest milliseconds between two DescribeVolumes calls. */
const MIN_GAP_MS = 150;
/** Calls the watcher may make back to back (a burst's phases) before it settles to one per interval. */
const BURST_CALLS = 4;

/**
 * Waits for volume state transitions (creating → available, attaching → attached, …).
 *
 * Each wait is checked first near the moment its kind of transition is expected to finish (learned from the
 * durations this process observed, per action and volume type; see TransitionTimes), then after short steps
 * growing ×1.5 up to `intervalMs`. Checks due close together share one DescribeVolumes call: a call takes every
 * wait due before the next call could be made. Calls draw from a small bucket (BURST_CALLS, refilled one per
 * `intervalMs`), so a few waits answer within ~0.15 s of their transition while a steady stream of them costs
 * about one call per interval however many there are.
 */
export class VolumeWatcher {
  private readonly waiters = new Set<Waiter>();
  private readonly times = new TransitionTimes();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private running = false;
  private lastCall = 0;
  private calls = BURST_CALLS;
  private refilledAt = Date.now();

  constructor(
    private readonly describe: (ids: string[]) => Promise<Map<string, VolumeInfo>>,
    private readonly opts: WatcherOptions,
  ) {}

  /**
   * Resolves with the volume (or undefined when it is gone) once `until` holds; rejects with DeadlineExceeded
   * after `timeoutMs`. `transition` names what is awaited, so its duration is learned and the first check
   * comes when it is likely done.
   */
  waitFor(volumeId: string, until: (v: VolumeInfo | undefined) => boolean, timeoutMs: number, transition?: Transition): Promise<VolumeInfo | undefined> {
    return external(
      () =>
        new Promise((resolve, reject) => {
          const now = Date.now();
          // Never later than two intervals: a prior or a learned time must not hold up a fast emulator.
          const first = Math.min(this.times.expected(transition) ?? 0, 2 * this.opts.intervalMs);
          const step = Math.min(FIRST_STEP_MS, this.opts.intervalMs);
          this.waiters.add({ volumeId, until, resolve, reject, transition, started: now, expires: now + timeoutMs, due: now + first, step, lastMiss: 0 });
          this.schedule();
        }),
    );
  }

  /** Volumes waited on. */
  get waiting(): number {
    return new Set([...this.waiters].map((w) => w.volumeId)).size;
  }

  /** What the watcher has learned: expected milliseconds by transition (for logs and tests). */
  learned(): Record<string, number> {
    return this.times.snapshot();
  }

  /** When the next call may be made: MIN_GAP_MS after the last, and once the bucket holds a call. */
  private nextCallAt(now: number): number {
    this.calls = Math.min(BURST_CALLS, this.calls + (now - this.refilledAt) / this.opts.intervalMs);
    this.refilledAt = now;
    const refill = this.calls >= 1 ? now : now + (1 - this.calls) * this.opts.intervalMs;
    return Math.max(this.lastCall + Math.min(MIN_GAP_MS, this.opts.intervalMs), refill);
  }

  private schedule(): void {
    if (this.running || this.waiters.size === 0) return;
    let earliest = Infinity;
    for (const w of this.waiters) earliest = Math.min(earliest, w.due, w.expires);
    // Not before a call may be made: waits due meanwhile share it instead of multiplying calls.
    const at = Math.max(earliest, this.nextCallAt(Date.now()));
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, at - Date.now()));
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.running = true;
    const now = Date.now();
    this.nextCallAt(now);
    this.calls = Math.max(0, this.calls - 1);
    this.lastCall = now;
    // Every wait due before the next call could happen rides on this one.
    const horizon = this.nextCallAt(now);
    const batch = [...this.waiters].filter((w) => w.due <= horizon || w.expires <= now);
    const ids = [...new Set(batch.map((w) => w.volumeId))];
    try {
      const found = ids.length > 0 ? await this.describe(ids) : new Map<string, VolumeInfo>();
      const at = Date.now();
      for (const w of batch) {
        const vol = found.get(w.volumeId);
        if (w.until(vol)) this.finish(w, at, vol);
        else if (at > w.expires) this.fail(w, deadlineExceeded(`timed out waiting for volume ${w.volumeId} (state ${vol?.state ?? 'gone'})`));
        else this.missed(w, at);
      }
    } catch (err) {
      // The EC2 adapter already retried; fail only the waiters whose time is up, and check the rest again later.
      this.opts.log.warn({ err, volumes: ids.length }, 'DescribeVolumes for waiters failed');
      const at = Date.now();
      for (const w of batch) {
        if (at > w.expires) this.fail(w, err);
        else this.missed(w, at);
      }
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private finish(w: Waiter, at: number, vol: VolumeInfo | undefined): void {
    this.waiters.delete(w);
    // Finished between the last miss and now; found at the first check, it may have finished long before.
    this.times.observe(w.transition, w.lastMiss === 0 ? 0.9 * (at - w.started) : (w.lastMiss + at) / 2 - w.started);
    w.resolve(vol);
  }

  private fail(w: Waiter, err: unknown): void {
    this.waiters.delete(w);
    w.reject(err);
  }

  private missed(w: Waiter, at: number): void {
    w.lastMiss = at;
    w.due = at + w.step;
    w.step = Math.min(this.opts.intervalMs, w.step * 1.5);
  }

  /** Rejects every waiter (on shutdown). */
  close(reason: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    for (const w of this.waiters) w.reject(reason);
    this.waiters.clear();
  }
}
