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

/** The exit code of every Plinth process whose configuration is invalid. */
export const CONFIG_EXIT_CODE = 2;

/** An invalid configuration: the process prints the message and exits with `exitCode` (always CONFIG_EXIT_CODE). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = CONFIG_EXIT_CODE;
}

/**
 * "127.0.0.1:8080", "metrics.local:9808" or "[::1]:8080" → host (without
 * brackets) and port; undefined when `address` is not host:port or the port
 * is above 65535. With `allowEmptyHost`, ":9809" is accepted and has host "".
 */
export function splitHostPort(address: string, opts: { allowEmptyHost?: boolean } = {}): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  if (host === '' && !opts.allowEmptyHost) return undefined;
  if (m[1] !== undefined && !m[1].includes(':')) return undefined;
  return { host, port };
}

/** A `host:port` (or `[::1]:port`) setting, kept as the string. */
export const hostPort = (opts: { allowEmptyHost?: boolean } = {}) =>
  z.string().refine((v) => splitHostPort(v, opts) !== undefined, {
    message: `expected host:port with a port up to 65535, e.g. 127.0.0.1:8080 or [::1]:8080${opts.allowEmptyHost ? ' (or :8080 for every interface)' : ''}`,
  });

/** pino's levels, and "silent". */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL: a pino level, default info. */
export const logLevel = z.enum(LOG_LEVELS).default('info');

/**
 * A CSI driver name as the CSI spec has it: at most 63 characters, beginning
 * and ending with an alphanumeric, with dashes, dots, underscores and
 * alphanumerics between (ebs.csi.plinth.dev).
 */
export const CSI_DRIVER_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

export const csiDriverName = z
  .string()
  .regex(
    CSI_DRIVER_NAME,
    'expected a CSI driver name: at most 63 characters, alphanumerics at both ends and dashes, dots, underscores or alphanumerics between (e.g. ebs.csi.plinth.dev)',
  )
  .default('ebs.csi.plinth.dev');

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
        ctx.addIssue({
          code: 'custom',
          message: `expected an integer${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}, got "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    });

/** Settings every Plinth process that talks to EC2 spells the same way (Redis: @plinth/redis's redisEnv). */
export const sharedEnv = {
  PLINTH_DRIVER_NAME: csiDriverName,
  /** Tagged on every volume; the controller and the admin API must agree on it. */
  PLINTH_CLUSTER_ID: z.string().min(1).max(128).default('plinth'),
  AWS_REGION: z.string().min(1, 'AWS_REGION is required (e.g. us-east-1)'),
  EC2_ENDPOINT: z.url().optional(),
};
