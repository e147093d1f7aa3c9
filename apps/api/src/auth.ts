import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type Role = 'viewer' | 'operator';
const ROLES: readonly Role[] = ['viewer', 'operator'];

export interface TokenSpec {
  role: Role;
  token: string;
}

/** Shortest token accepted: guessing must be hopeless. */
const MIN_TOKEN_LENGTH = 16;

/**
 * Parses "viewer:abc,operator:def" or one "role:token" per line (# starts a
 * comment). Throws an Error that names the entry by position, never the token.
 */
export function parseTokens(text: string, source: string): TokenSpec[] {
  const out: TokenSpec[] = [];
  const entries = text
    .split(/[\n,]/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':');
    const role = entry.slice(0, colon).trim();
    const token = entry.slice(colon + 1).trim();
    if (colon <= 0 || !ROLES.includes(role as Role)) throw new Error(`${source}: entry ${i + 1} must be "viewer:<token>" or "operator:<token>"`);
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))
      throw new Error(`${source}: entry ${i + 1} (${role}) needs a token of at least ${MIN_TOKEN_LENGTH} characters without spaces`);
    out.push({ role: role as Role, token });
  });
  return out;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Bearer tokens with roles. Tokens are kept as SHA-256 digests and every
 * presented token is compared against every entry with timingSafeEqual
 * (fixed-length digests, no early exit), so timing reveals neither a token
 * nor which entry matched.
 */
export class TokenStore {
  private entries: { role: Role; digest: Buffer }[];

  constructor(specs: readonly TokenSpec[]) {
    this.entries = specs.map((s) => ({ role: s.role, digest: digest(s.token) }));
  }

  get size(): number {
    return this.entries.length;
  }

  replace(specs: readonly TokenSpec[]): void {
    this.entries = specs.map((s) => ({ role: s.role, digest: digest(s.token) }));
  }

  /** The role of `presented`, or undefined. When a token is listed twice, the higher role wins. */
  authenticate(presented: string): Role | undefined {
    const d = digest(presented);
    let role: Role | undefined;
    for (const e of this.entries) {
      const match = timingSafeEqual(d, e.digest);
      if (match && (role === undefined || e.role === 'operator')) role = e.role;
    }
    return role;
  }
}

/** Operators may do everything viewers may. */
export function allows(have: Role, need: Role): boolean {
  return need === 'viewer' || have === 'operator';
}

/** The token of an "Authorization: Bearer <token>" header, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m?.[1];
}

/** A rate-limit window for messages: "1 minute", "90 seconds", "1500 ms". */
export function describeWindow(ms: number): string {
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  if (ms % 3_600_000 === 0) return unit(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0) return unit(ms / 60_000, 'minute');
  if (ms % 1000 === 0) return unit(ms / 1000, 'second');
  return `${ms} ms`;
}

function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface LoadedTokens {
  specs: TokenSpec[];
  /** Set when tokens were generated for a loopback dev API. */
  generated?: { file: string; viewer: string };
  /** Re-reads API_TOKENS_FILE when it changed (a rotated Kubernetes Secret); undefined without one. */
  reload?: () => TokenSpec[] | undefined;
}

export interface TokenSources {
  API_TOKENS?: string | undefined;
  API_TOKENS_FILE?: string | undefined;
  API_DEV_TOKENS_FILE: string;
}

/**
 * Tokens from API_TOKENS and API_TOKENS_FILE together. With neither, a
 * loopback-only API (dev) gets a viewer and an operator token, kept in
 * `API_DEV_TOKENS_FILE` (mode 0600) and reused across restarts; any other
 * address refuses to start without tokens.
 */
export function loadTokens(src: TokenSources, loopback: boolean): LoadedTokens {
  const fromEnv = src.API_TOKENS ? parseTokens(src.API_TOKENS, 'API_TOKENS') : [];
  const file = src.API_TOKENS_FILE;
  const readFile = (): TokenSpec[] => parseTokens(readFileSync(file!, 'utf8'), `API_TOKENS_FILE ${file}`);
  if (file) {
    let mtime = statSync(file).mtimeMs;
    const specs = [...fromEnv, ...readFile()];
    if (specs.length === 0) throw new Error(`API_TOKENS_FILE ${file} holds no tokens`);
    const reload = (): TokenSpec[] | undefined => {
      const now = statSync(file).mtimeMs;
      if (now === mtime) return undefined;
      mtime = now;
      return [...fromEnv, ...readFile()];
    };
    return { specs, reload };
  }
  if (fromEnv.length > 0) return { specs: fromEnv };
  if (!loopback) throw new Error('no API tokens: set API_TOKENS or API_TOKENS_FILE (tokens are generated only for an API that listens on loopback)');
  return devTokens(src.API_DEV_TOKENS_FILE);
}

function devTokens(file: string): LoadedTokens {
  if (existsSync(file)) {
    try {
      const specs = parseTokens(readFileSync(file, 'utf8'), file);
      const viewer = specs.find((s) => s.role === 'viewer');
      if (viewer && specs.some((s) => s.role === 'operator')) {
        chmodSync(file, 0o600);
        return { specs, generated: { file, viewer: viewer.token } };
      }
    } catch {
      // unreadable or malformed: write a fresh pair below
    }
  }
  const viewer = newToken();
  const operator = newToken();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `# Plinth admin API tokens generated for local development\nviewer:${viewer}\noperator:${operator}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return {
    specs: [
      { role: 'viewer', token: viewer },
      { role: 'operator', token: operator },
    ],
    generated: { file, viewer },
  };
}
