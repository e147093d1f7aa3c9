import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { envBool, splitHostPort, z } from '@plinth/config';
import { Redis, type RedisOptions } from 'ioredis';
import { ReconnectingRedis } from './reconnecting.js';

/**
 * Where Plinth's Redis is and how to reach it: one URL (a single Redis, a
 * managed Redis/Valkey over TLS with an ACL user), or Redis Sentinel (the
 * sentinels and the monitored primary's name). Plain data, so it can be
 * handed to every part that opens connections (the queue opens several).
 */
export interface RedisSettings {
  /** `redis://` or `rediss://` URL; unset in Sentinel mode. */
  url?: string;
  /** Sentinel mode: the sentinels to ask for the current primary. */
  sentinels?: { host: string; port: number }[];
  /** Sentinel mode: the primary's name as the sentinels monitor it (`sentinel monitor <name> …`). */
  sentinelName?: string;
  /** ACL user and password for Redis itself; override the URL's. */
  username?: string;
  password?: string;
  /** Logical database; overrides the URL's path. */
  db?: number;
  /** TLS to Redis (implied by `rediss://`). */
  tls?: boolean;
  /** PEM bundle to trust for TLS (to Redis and, with sentinelTls, to the sentinels). */
  caFile?: string;
  /** TLS server name to check, when it differs from the host connected to. */
  tlsServername?: string;
  /** Credentials and TLS for the sentinels themselves. */
  sentinelUsername?: string;
  sentinelPassword?: string;
  sentinelTls?: boolean;
}

/** A `redis://` URL or settings: what every Plinth part that connects to Redis accepts. */
export type RedisConnection = string | RedisSettings;

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/[^\s]*$/, 'expected redis://[user:password@]host:port[/db] or rediss://… (TLS)')
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.hostname !== '' && (u.pathname === '' || u.pathname === '/' || /^\/\d{1,2}$/.test(u.pathname));
    } catch {
      return false;
    }
  }, 'expected redis://[user:password@]host:port[/db] or rediss://… (TLS)');

const sentinelList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    const out: { host: string; port: number }[] = [];
    for (const part of v.split(',').map((s) => s.trim())) {
      const hp = splitHostPort(part);
      if (!hp || hp.port === 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected host:port[,host:port…], e.g. redis-sentinel-0:26379,redis-sentinel-1:26379; "${part}" is not host:port`,
        });
        return z.NEVER;
      }
      out.push(hp);
    }
    return out;
  });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

/**
 * The REDIS_* variables, spelled the same in the controller, the node agent
 * and the admin API. Spread into an app's schema and check the combination
 * with `refineRedisEnv`; turn the parsed values into settings with `redisSettings`.
 */
export const redisEnv = {
  REDIS_URL: redisUrl.optional(),
  /** `host:port,host:port…`: use Redis Sentinel instead of REDIS_URL. */
  REDIS_SENTINELS: sentinelList,
  /** The primary's name the sentinels monitor (`mymaster` in Redis' examples). */
  REDIS_SENTINEL_NAME: optionalText,
  REDIS_SENTINEL_USERNAME: optionalText,
  REDIS_SENTINEL_PASSWORD: optionalText,
  /** TLS to the sentinels too. */
  REDIS_SENTINEL_TLS: envBool(false),
  /** ACL user/password for Redis (e.g. from a Secret); take precedence over the URL's. */
  REDIS_USERNAME: optionalText,
  REDIS_PASSWORD: optionalText,
  /** Logical database (0–15 in a stock Redis). */
  REDIS_DB: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 255) {
        ctx.addIssue({ code: 'custom', message: `expected a database number 0–255, got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  /** TLS to Redis without a rediss:// URL (Sentinel mode). */
  REDIS_TLS: envBool(false),
  /** PEM file of the CA(s) to trust for Redis (and sentinel) TLS; the system's CAs otherwise. */
  REDIS_CA_FILE: optionalText,
  /** TLS server name to verify when the host connected to differs (e.g. an IP). */
  REDIS_TLS_SERVERNAME: optionalText,
};

export type RedisEnv = z.infer<z.ZodObject<typeof redisEnv>>;

/**
 * Checks the REDIS_* combination: exactly one of REDIS_URL and
 * REDIS_SENTINELS (or neither when Redis is optional), a name with the
 * sentinels, sentinel-only settings only with sentinels.
 */
export function refineRedisEnv(env: RedisEnv, ctx: z.RefinementCtx, opts: { required: boolean } = { required: true }): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (env.REDIS_URL !== undefined && env.REDIS_SENTINELS !== undefined) issue('REDIS_URL', 'set REDIS_URL or REDIS_SENTINELS, not both');
  if (env.REDIS_URL === undefined && env.REDIS_SENTINELS === undefined && opts.required) {
    issue('REDIS_URL', 'REDIS_URL (redis://host:port, rediss://… for TLS) or REDIS_SENTINELS with REDIS_SENTINEL_NAME is required');
  }
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME === undefined)
    issue('REDIS_SENTINEL_NAME', 'required with REDIS_SENTINELS: the name the sentinels monitor the primary by');
  if (env.REDIS_SENTINELS === undefined) {
    for (const k of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (env[k] !== undefined) issue(k, 'only meaningful with REDIS_SENTINELS');
    }
    if (env.REDIS_SENTINEL_TLS) issue('REDIS_SENTINEL_TLS', 'only meaningful with REDIS_SENTINELS');
  }
  if (env.REDIS_URL?.startsWith('redis://') && env.REDIS_TLS) issue('REDIS_TLS', 'REDIS_URL is redis:// (plain); use a rediss:// URL for TLS');
}

/**
 * Pass with refineRedisEnv (`.superRefine(fn, alwaysCheck)`): zod skips a
 * refinement once any variable is bad, and the one start-up message must name
 * a missing REDIS_URL along with the rest. refineRedisEnv only tests presence,
 * so it is safe on values that failed their own checks.
 */
export const alwaysCheck = { when: (): boolean => true };

/** The settings the parsed REDIS_* variables describe; undefined when Redis is not configured (optional in the node agent). */
export function redisSettings(env: RedisEnv): RedisSettings | undefined {
  if (env.REDIS_URL === undefined && env.REDIS_SENTINELS === undefined) return undefined;
  const s: RedisSettings = {};
  if (env.REDIS_URL !== undefined) s.url = env.REDIS_URL;
  if (env.REDIS_SENTINELS !== undefined) {
    s.sentinels = env.REDIS_SENTINELS;
    s.sentinelName = env.REDIS_SENTINEL_NAME;
    if (env.REDIS_SENTINEL_USERNAME !== undefined) s.sentinelUsername = env.REDIS_SENTINEL_USERNAME;
    if (env.REDIS_SENTINEL_PASSWORD !== undefined) s.sentinelPassword = env.REDIS_SENTINEL_PASSWORD;
    if (env.REDIS_SENTINEL_TLS) s.sentinelTls = true;
  }
  if (env.REDIS_USERNAME !== undefined) s.username = env.REDIS_USERNAME;
  if (env.REDIS_PASSWORD !== undefined) s.password = env.REDIS_PASSWORD;
  if (env.REDIS_DB !== undefined) s.db = env.REDIS_DB;
  if (env.REDIS_TLS) s.tls = true;
  if (env.REDIS_CA_FILE !== undefined) s.caFile = env.REDIS_CA_FILE;
  if (env.REDIS_TLS_SERVERNAME !== undefined) s.tlsServername = env.REDIS_TLS_SERVERNAME;
  return s;
}

function tlsOptions(s: RedisSettings, readFile: (path: string) => Buffer): TlsOptions {
  const tls: TlsOptions = {};
  if (s.caFile !== undefined) tls.ca = readFile(s.caFile);
  if (s.tlsServername !== undefined) tls.servername = s.tlsServername;
  return tls;
}

/**
 * ioredis options for `conn` (without `extra`'s per-use settings such as
 * maxRetriesPerRequest, which are merged over them). A URL's credentials are
 * percent-decoded; the CA file is read here, at connect time.
 */
export function redisOptions(conn: RedisConnection, extra: RedisOptions = {}, readFile: (path: string) => Buffer = (p) => readFileSync(p)): RedisOptions {
  const s: RedisSettings = typeof conn === 'string' ? { url: conn } : conn;
  const o: RedisOptions = {};
  if (s.url !== undefined) {
    const u = new URL(s.url);
    o.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    o.port = u.port === '' ? 6379 : Number(u.port);
    if (u.username !== '') o.username = decodeURIComponent(u.username);
    if (u.password !== '') o.password = decodeURIComponent(u.password);
    const db = u.pathname.replace(/^\//, '');
    if (db !== '') o.db = Number(db);
    if (u.protocol === 'rediss:' || s.tls) o.tls = tlsOptions(s, readFile);
  } else if (s.sentinels !== undefined) {
    o.sentinels = s.sentinels.map((x) => ({ ...x }));
    o.name = s.sentinelName;
    // No failoverDetector: its +switch-master disconnect can land while a reconnect is resolving the new primary and
    // end the client with its queued commands failed (seen in redis.int.test.ts). A kill -9 or a demotion closes the
    // socket anyway, and ioredis then asks the sentinels again.
    if (s.sentinelUsername !== undefined) o.sentinelUsername = s.sentinelUsername;
    if (s.sentinelPassword !== undefined) o.sentinelPassword = s.sentinelPassword;
    if (s.sentinelTls) o.sentinelTLS = tlsOptions(s, readFile);
    if (s.tls) {
      o.enableTLSForSentinelMode = true;
      o.tls = tlsOptions(s, readFile);
    }
  } else {
    throw new Error('Redis settings need a url or sentinels');
  }
  if (s.username !== undefined) o.username = s.username;
  if (s.password !== undefined) o.password = s.password;
  if (s.db !== undefined) o.db = s.db;
  return { ...o, ...extra };
}

/** A new ioredis client for `conn`: the one way Plinth opens a Redis connection. It connects again after ioredis gave up on it (ReconnectingRedis). */
export function connectRedis(conn: RedisConnection, extra: RedisOptions = {}): Redis {
  // A caller with its own retryStrategy decides when to give up (e.g. one try at start-up): plain ioredis then.
  const options = redisOptions(conn, extra);
  return extra.retryStrategy === undefined ? new ReconnectingRedis(options) : new Redis(options);
}

/** Where `conn` points, for logs: never a password. */
export function describeRedis(conn: RedisConnection): string {
  const s: RedisSettings = typeof conn === 'string' ? { url: conn } : conn;
  const extras: string[] = [];
  if (s.username !== undefined) extras.push(`user ${s.username}`);
  if (s.password !== undefined) extras.push('password set');
  if (s.db !== undefined) extras.push(`db ${s.db}`);
  if (s.tls && s.url === undefined) extras.push('tls');
  if (s.caFile !== undefined) extras.push(`ca ${s.caFile}`);
  const tail = extras.length ? ` (${extras.join(', ')})` : '';
  if (s.url !== undefined) {
    try {
      const u = new URL(s.url);
      if (u.password !== '') u.password = 'REDACTED';
      return `${u.toString()}${tail}`;
    } catch {
      return '[unparseable url]';
    }
  }
  const sentinelExtras = [s.sentinelPassword !== undefined ? 'sentinel password set' : '', s.sentinelTls ? 'sentinel tls' : ''].filter(Boolean);
  return `sentinel ${s.sentinelName ?? '?'} via ${(s.sentinels ?? []).map((x) => `${x.host}:${x.port}`).join(',')}${sentinelExtras.length ? ` (${sentinelExtras.join(', ')})` : ''}${tail}`;
}
