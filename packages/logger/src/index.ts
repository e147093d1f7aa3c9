import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log, at any depth. */
const SECRET_KEYS = new Set(['secrets', 'password', 'token', 'authorization', 'accesskeyid', 'secretaccesskey', 'sessiontoken', 'credentials']);

function isSecretKey(key: string): boolean {
  const k = key.toLowerCase();
  return SECRET_KEYS.has(k) || k.endsWith('secrets') || k.endsWith('secret') || k.endsWith('password');
}

export const REDACTED = '[REDACTED]';

/**
 * A copy of `value` with every secret-looking key's value replaced, at any
 * depth (CSI `secrets` maps, credentials, tokens). Used by the gRPC logging
 * interceptor, which logs whole requests.
 */
export function stripSecrets(value: unknown, depth = 0): unknown {
  if (depth > 12 || value === null || typeof value !== 'object') return value;
  if (value instanceof Date || Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => stripSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (isSecretKey(k)) {
      const empty = v === undefined || v === null || (typeof v === 'object' && Object.keys(v as object).length === 0);
      out[k] = empty ? v : REDACTED;
    } else {
      out[k] = stripSecrets(v, depth + 1);
    }
  }
  return out;
}

/** A URL with any password replaced, for logging connection strings. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'REDACTED';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** For tests: write here instead of stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        'secrets',
        '*.secrets',
        '*.*.secrets',
        'password',
        '*.password',
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'req.headers.authorization',
        'credentials',
        '*.credentials',
        '*.secretAccessKey',
        '*.sessionToken',
      ],
      censor: REDACTED,
    },
    base: { svc: opts.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}
