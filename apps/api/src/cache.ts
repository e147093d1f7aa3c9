/**
 * A short-lived cache that also coalesces: while a load for a key is in
 * flight, every caller for that key awaits the same promise, so a burst of
 * dashboard requests becomes one EC2 call. Failures are not cached.
 */
export class TtlCache<T> {
  private readonly values = new Map<string, { at: number; value: T }>();
  private readonly inflight = new Map<string, Promise<T>>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.values.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) {
      this.hits++;
      return hit.value;
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.hits++;
      return pending;
    }
    this.misses++;
    const p = load().then(
      (value) => {
        this.inflight.delete(key);
        if (this.ttlMs > 0) this.values.set(key, { at: this.now(), value });
        if (this.values.size > 10_000) this.prune();
        return value;
      },
      (err: unknown) => {
        this.inflight.delete(key);
        throw err;
      },
    );
    this.inflight.set(key, p);
    return p;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, v] of this.values) if (now - v.at >= this.ttlMs) this.values.delete(k);
  }
}
