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
/** Fewest milliseconds between two DescribeVolumes calls; the gap grows with the number of waiting volumes. */
const MIN_GAP_MS = 150;
const GAP_PER_WAITER_MS = 20;

/**
 * Waits for volume state transitions (creating → available, attaching → attached, …).
 *
 * Each wait is checked first near the moment its kind of transition is expected to finish (learned from the
 * durations this process observed, per action and volume type; see TransitionTimes), then after short steps
 * growing ×1.5 up to `intervalMs`. Checks due close together share one DescribeVolumes call: a call takes every
 * wait due within the next gap, and the gap between calls widens with the number of waiting volumes, so a burst
 * of waits costs about one call per second however large it is, and a single wait answers within ~0.1–0.2 s
 * of its transition.
 */
export class VolumeWatcher {
  private readonly waiters = new Set<Waiter>();
  private readonly times = new TransitionTimes();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private running = false;
  private lastCall = 0;

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

  private gapMs(): number {
    return Math.min(this.opts.intervalMs, Math.max(MIN_GAP_MS, this.waiters.size * GAP_PER_WAITER_MS));
  }

  private schedule(): void {
    if (this.running || this.waiters.size === 0) return;
    let earliest = Infinity;
    for (const w of this.waiters) earliest = Math.min(earliest, w.due, w.expires);
    // Not sooner than the gap after the last call: a burst shares calls instead of multiplying them.
    const at = Math.max(earliest, this.lastCall + this.gapMs());
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
    const horizon = now + this.gapMs();
    // Every wait due before the next call could happen rides on this one.
    const batch = [...this.waiters].filter((w) => w.due <= horizon || w.expires <= now);
    const ids = [...new Set(batch.map((w) => w.volumeId))];
    this.lastCall = now;
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
