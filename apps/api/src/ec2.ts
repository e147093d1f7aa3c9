import { createAwsCloud, RedisRateLimiter, type BucketSpec, type Cloud } from '@plinth/cloud';
import type { Logger } from '@plinth/logger';
import type { Redis } from 'ioredis';
import type { ApiConfig } from './config.js';
import type { ApiMetrics } from './metrics.js';

/**
 * The API's EC2 rate limiting: every call takes a token from the API's own
 * small bucket first (so a busy dashboard can use only a slice of the
 * account's Describe budget), then from the buckets the controller shares.
 */
export class ApiRateLimiter extends RedisRateLimiter {
  constructor(
    redis: Redis,
    own: BucketSpec,
    private readonly shared: RedisRateLimiter,
  ) {
    super(redis, { describe: own, mutating: own }, 'plinth:ratelimit:api:');
  }

  override async acquire(action: string, signal?: AbortSignal): Promise<number> {
    const a = await super.acquire(action, signal);
    return a + (await this.shared.acquire(action, signal));
  }
}

export function parseSpec(spec: string): BucketSpec {
  const [capacity, refill] = spec.split(':').map(Number);
  return { capacity: capacity ?? 10, refillPerSecond: refill ?? 2 };
}

/** The Cloud for reads (long retry budget) and one for readiness (answers within seconds). */
export function createClouds(config: ApiConfig, redis: Redis, log: Logger, metrics: ApiMetrics): { cloud: Cloud; probe: Cloud } {
  const shared = new RedisRateLimiter(redis, config.EC2_RATE_LIMITS);
  const limiter = new ApiRateLimiter(redis, parseSpec(config.API_EC2_DESCRIBE_LIMIT), shared);
  const endpoint = { region: config.AWS_REGION, endpoint: config.EC2_ENDPOINT, log, observer: metrics.ec2Observer };
  return { cloud: createAwsCloud({ ...endpoint, limiter, retryBudgetMs: 10_000 }), probe: createAwsCloud({ ...endpoint, retryBudgetMs: 1_000 }) };
}
