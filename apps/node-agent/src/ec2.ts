import { createAwsCloud, RedisRateLimiter, type BucketSpec, type Cloud, type Ec2Observer, type InstanceInfo, type InstanceTypeInfo } from '@plinth/cloud';
import { unavailable } from '@plinth/errors';
import type { Logger } from '@plinth/logger';
import { connectRedis, type RedisConnection } from '@plinth/redis';

export interface Ec2Facts {
  instance?: InstanceInfo | undefined;
  instanceType?: InstanceTypeInfo | undefined;
  instanceTypeName?: string | undefined;
}

/** "us-east-1a" -> "us-east-1" (local zones "us-west-2-lax-1a" -> "us-west-2"). */
export function regionOfZone(zone: string): string {
  const m = /^([a-z]{2}(?:-gov)?-[a-z]+-\d+)/.exec(zone);
  return m?.[1] ?? zone.replace(/[a-z]$/, '');
}

export interface NodeCloudOptions {
  region: string;
  endpoint?: string | undefined;
  /** With Redis, the calls draw from the rate-limit buckets the controller and the API share. */
  redis?: RedisConnection | undefined;
  rateLimits?: Record<string, BucketSpec> | undefined;
  log: Logger;
  observer?: Ec2Observer | undefined;
  retryBudgetMs: number;
}

/** The agent's Cloud for its start-up look-ups (shared rate limiter, retries, error mapping, metrics); `close` frees it. */
export function nodeCloud(opts: NodeCloudOptions): { cloud: Cloud; close: () => void } {
  const redis = opts.redis ? connectRedis(opts.redis, { maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: true }) : undefined;
  redis?.on('error', (err) => opts.log.debug({ err: err.message }, 'redis connection error (EC2 rate limiter)'));
  const limiter = redis ? new RedisRateLimiter(redis, opts.rateLimits) : undefined;
  const cloud = createAwsCloud({
    region: opts.region,
    endpoint: opts.endpoint,
    log: opts.log,
    limiter,
    observer: opts.observer,
    retryBudgetMs: opts.retryBudgetMs,
  });
  return {
    cloud,
    close: () => {
      cloud.close();
      redis?.disconnect();
    },
  };
}

/**
 * This instance and its type: the inputs of the attach-limit computation.
 * Failures are UNAVAILABLE naming `where` (the endpoint).
 */
export async function describeNode(cloud: Cloud, where: string, instanceId: string, instanceType: string | undefined, signal?: AbortSignal): Promise<Ec2Facts> {
  try {
    const instance = (await cloud.instances.get([instanceId], signal)).get(instanceId);
    const typeName = instanceType ?? instance?.type;
    const type = typeName ? ((await cloud.instances.types([typeName], signal)).get(typeName) ?? { name: typeName, nvmeInstanceStoreDisks: 0 }) : undefined;
    return { instance, instanceType: type, instanceTypeName: typeName };
  } catch (err) {
    throw unavailable(
      `EC2 (${where}) did not describe instance ${instanceId}: ${(err as Error).message.split('\n')[0]}; set MAX_VOLUMES_PER_NODE to start without EC2`,
    );
  }
}
