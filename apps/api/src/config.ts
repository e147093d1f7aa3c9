import { quotaOverridesEnv } from '@plinth/capacity';
import { ec2RateLimitsEnv } from '@plinth/cloud';
import { envInt, hostPort, logLevel, parseEnv, sharedEnv, splitHostPort, z } from '@plinth/config';
import { alwaysCheck, redisEnv, refineRedisEnv } from '@plinth/redis';

/** Every setting of the admin API, from the environment, validated once at start. */
export const apiEnv = z
  .object({
    API_ADDRESS: hostPort().default('127.0.0.1:8080'),
    /** "viewer:<token>,operator:<token>" */
    API_TOKENS: z.string().optional(),
    /** A file of role:token lines (a mounted Kubernetes Secret). */
    API_TOKENS_FILE: z.string().min(1).optional(),
    /** Where dev-generated tokens go when none are configured and the API listens on loopback. */
    API_DEV_TOKENS_FILE: z.string().min(1).default('.plinth/api-tokens'),
    API_TLS_CERT: z.string().min(1).optional(),
    API_TLS_KEY: z.string().min(1).optional(),
    API_RATE_LIMIT_MAX: envInt(600, { min: 1 }),
    API_RATE_LIMIT_WINDOW_MS: envInt(60_000, { min: 100 }),
    /** Failed authentications per client IP per window; beyond it the IP gets 429 until the window ends. */
    API_AUTH_FAILURE_LIMIT: envInt(10, { min: 1 }),
    API_BODY_LIMIT_BYTES: envInt(16_384, { min: 256, max: 10_485_760 }),
    /** How long EC2 reads are reused. */
    API_CACHE_TTL_MS: envInt(3000, { min: 0, max: 600_000 }),
    /** The API's own ceiling on EC2 Describe calls, on top of the shared buckets ("capacity:refillPerSecond"). */
    API_EC2_DESCRIBE_LIMIT: z
      .string()
      .regex(/^\d+(\.\d+)?:\d+(\.\d+)?$/, 'expected capacity:refillPerSecond, e.g. 10:2')
      .default('10:2'),
    API_KUBERNETES: z.enum(['auto', 'on', 'off']).default('auto'),
    KUBECONFIG: z.string().optional(),
    ...sharedEnv,
    ...redisEnv,
    EC2_RATE_LIMITS: ec2RateLimitsEnv,
    CAPACITY_QUOTAS_GIB: quotaOverridesEnv,
    SHUTDOWN_GRACE_MS: envInt(10_000, { min: 0 }),
    LOG_LEVEL: logLevel,
  })
  .superRefine((c, ctx) => refineRedisEnv(c, ctx), alwaysCheck)
  .superRefine((c, ctx) => {
    if (Boolean(c.API_TLS_CERT) !== Boolean(c.API_TLS_KEY))
      ctx.addIssue({
        code: 'custom',
        path: [c.API_TLS_CERT ? 'API_TLS_KEY' : 'API_TLS_CERT'],
        message: 'API_TLS_CERT and API_TLS_KEY go together; set both or neither',
      });
  });

export type ApiConfig = z.infer<typeof apiEnv>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseEnv(apiEnv, env);
}

/** "127.0.0.1:8080" / "[::1]:8080" → host and port. */
export function splitAddress(address: string): { host: string; port: number } {
  const parts = splitHostPort(address);
  if (!parts) throw new Error(`not host:port: ${address}`);
  return parts;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
