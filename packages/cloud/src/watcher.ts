import { deadlineExceeded } from '@plinth/errors';
import type { Logger } from '@plinth/logger';
import { external } from './timing.js';
import type { VolumeInfo } from './types.js';

interface Waiter {
  until: (v: VolumeInfo | undefined) => boolean;
  resolve: (v: VolumeInfo | undefined) => void;
  reject: (e: unknown) => void;
  expires: number;
}

export interface WatcherOptions {
  /** Time between DescribeVolumes calls while anything waits. */
  intervalMs: number;
  log: Logger;
}

/**
 * Waits for volume state transitions with one DescribeVolumes call per tick
 * for every volume this process is waiting on, however many there are.
 */
export class VolumeWatcher {
  private waiters = new Map<string, Set<Waiter>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly describe: (ids: string[]) => Promise<Map<string, VolumeInfo>>,
    private readonly opts: WatcherOptions,
  ) {}

  /**
   * Resolves with the volume (or undefined when it is gone) once `until`
   * holds; rejects with DeadlineExceeded after `timeoutMs`.
   */
  waitFor(volumeId: string, until: (v: VolumeInfo | undefined) => boolean, timeoutMs: number): Promise<VolumeInfo | undefined> {
    return external(() => this.enqueue(volumeId, until, timeoutMs));
  }

  private enqueue(volumeId: string, until: (v: VolumeInfo | undefined) => boolean, timeoutMs: number): Promise<VolumeInfo | undefined> {
    return new Promise((resolve, reject) => {
      const set = this.waiters.get(volumeId) ?? new Set();
      set.add({ until, resolve, reject, expires: Date.now() + timeoutMs });
      this.waiters.set(volumeId, set);
      this.schedule();
    });
  }

  get waiting(): number {
    return this.waiters.size;
  }

  private schedule(): void {
    if (this.timer || this.running || this.waiters.size === 0) return;
    this.timer = setTimeout(() => void this.tick(), this.opts.intervalMs);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    const ids = [...this.waiters.keys()];
    try {
      const found = await this.describe(ids);
      const now = Date.now();
      for (const id of ids) {
        const set = this.waiters.get(id);
        if (!set) continue;
        const vol = found.get(id);
        for (const w of set) {
          if (w.until(vol)) {
            set.delete(w);
            w.resolve(vol);
          } else if (now > w.expires) {
            set.delete(w);
            w.reject(deadlineExceeded(`timed out waiting for volume ${id} (state ${vol?.state ?? 'gone'})`));
          }
        }
        if (set.size === 0) this.waiters.delete(id);
      }
    } catch (err) {
      // The EC2 adapter already retried; fail only the waiters whose time is up.
      this.opts.log.warn({ err, volumes: ids.length }, 'DescribeVolumes for waiters failed');
      const now = Date.now();
      for (const [id, set] of this.waiters) {
        for (const w of set) {
          if (now > w.expires) {
            set.delete(w);
            w.reject(err);
          }
        }
        if (set.size === 0) this.waiters.delete(id);
      }
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  /** Rejects every waiter (on shutdown). */
  close(reason: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const set of this.waiters.values()) for (const w of set) w.reject(reason);
    this.waiters.clear();
  }
}
