import { external } from './timing.js';

export interface BatcherOptions {
  /** How long to wait for more keys after the first one arrives. */
  windowMs: number;
  /** Flush at once when this many keys are waiting. */
  maxBatch: number;
}

type Pending<V> = { resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[];

/**
 * Coalesces single-key look-ups arriving close together into one batched
 * fetch. `fetch` returns a map with an entry for each key it found; a key it
 * did not find resolves to undefined, so one missing id never fails the others.
 */
export class Batcher<K, V> {
  private pending = new Map<K, Pending<V>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fetch: (keys: K[]) => Promise<Map<K, V>>,
    private readonly opts: BatcherOptions,
  ) {}

  get(key: K): Promise<V | undefined> {
    return external(() => this.enqueue(key));
  }

  private enqueue(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const list = this.pending.get(key);
      if (list) list.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (this.pending.size >= this.opts.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.windowMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return;
    this.fetch([...batch.keys()]).then(
      (found) => {
        for (const [k, waiters] of batch) for (const w of waiters) w.resolve(found.get(k));
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
