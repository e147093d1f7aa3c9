/** EC2's request token buckets, per account and region (EC2 API docs, "Request throttling"). */
export interface BucketConfig {
  capacity: number;
  refillPerSecond: number;
}

export type Category = 'describe' | 'describeUnfiltered' | 'mutating' | 'resourceIntensive';

export const EC2_BUCKETS: Record<Category, BucketConfig> = {
  describe: { capacity: 100, refillPerSecond: 20 },
  describeUnfiltered: { capacity: 50, refillPerSecond: 10 },
  mutating: { capacity: 50, refillPerSecond: 5 },
  resourceIntensive: { capacity: 50, refillPerSecond: 2 },
};

const RESOURCE_INTENSIVE = new Set(['RunInstances', 'TerminateInstances', 'StartInstances', 'StopInstances']);

/** The bucket an EC2 request draws from: by action, and for Describe* by whether it narrows its result. */
export function categoryOf(action: string, params: URLSearchParams): Category {
  if (RESOURCE_INTENSIVE.has(action)) return 'resourceIntensive';
  if (/^(Describe|Get|List)/.test(action)) {
    const narrowed = [...params.keys()].some((k) => k.startsWith('Filter.') || /Id\.\d+$/.test(k) || k === 'MaxResults');
    return narrowed ? 'describe' : 'describeUnfiltered';
  }
  return 'mutating';
}

/** A token bucket on the proxy's own clock. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly cfg: BucketConfig,
    now = Date.now(),
  ) {
    this.tokens = cfg.capacity;
    this.last = now;
  }

  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.cfg.capacity, this.tokens + ((now - this.last) / 1000) * this.cfg.refillPerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
