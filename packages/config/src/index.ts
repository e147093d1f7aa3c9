import { z } from 'zod';

export { z };

/**
 * Parses `env` against a zod object schema once at start. On failure it throws
 * one error that lists every bad variable by name with the reason, so an
 * operator can fix them all in one go.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const key = i.path.join('.') || '(root)';
    return `  ${key}: ${i.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "true"/"false"/"1"/"0"/"yes"/"no" as a boolean. */
export const envBool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? def : v === 'true' || v === '1' || v === 'yes'));

/** A positive integer given as a string. */
export const envInt = (def: number, opts: { min?: number; max?: number } = {}) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < (opts.min ?? 0) || n > (opts.max ?? Number.MAX_SAFE_INTEGER)) {
        ctx.addIssue({ code: 'custom', message: `expected an integer${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

/** Settings every Plinth process that talks to Redis and EC2 spells the same way. */
export const sharedEnv = {
  PLINTH_DRIVER_NAME: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/, 'expected a DNS-style name such as ebs.csi.plinth.dev')
    .default('ebs.csi.plinth.dev'),
  /** Tagged on every volume; the controller and the admin API must agree on it. */
  PLINTH_CLUSTER_ID: z.string().min(1).max(128).default('plinth'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://host:port or rediss://…'),
  AWS_REGION: z.string().min(1, 'AWS_REGION is required (e.g. us-east-1)'),
  EC2_ENDPOINT: z.url().optional(),
};
