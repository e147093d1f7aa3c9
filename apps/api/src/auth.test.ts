import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allows, bearer, describeWindow, loadTokens, parseTokens, TokenStore } from './auth.js';

const V = 'viewer-token-0123456789';
const O = 'operator-token-0123456789';

describe('tokens', () => {
  it('parses comma- or line-separated role:token entries with comments', () => {
    expect(parseTokens(`viewer:${V},operator:${O}`, 'API_TOKENS')).toEqual([
      { role: 'viewer', token: V },
      { role: 'operator', token: O },
    ]);
    expect(parseTokens(`# dashboards\nviewer:${V}\n\noperator:${O}  # ops\n`, 'f')).toHaveLength(2);
  });

  it('rejects unknown roles and short tokens without echoing the token', () => {
    expect(() => parseTokens('admin:abcdefghijklmnopqrstu', 'API_TOKENS')).toThrow('API_TOKENS: entry 1 must be "viewer:<token>" or "operator:<token>"');
    let msg = '';
    try {
      parseTokens(`viewer:${V},operator:short-secret`, 'API_TOKENS');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('entry 2 (operator) needs a token of at least 16 characters');
    expect(msg).not.toContain('short-secret');
  });

  it('authenticates exact tokens only and gives their role', () => {
    const store = new TokenStore(parseTokens(`viewer:${V},operator:${O}`, 't'));
    expect(store.authenticate(V)).toBe('viewer');
    expect(store.authenticate(O)).toBe('operator');
    expect(store.authenticate(`${V}x`)).toBeUndefined();
    expect(store.authenticate(V.slice(0, -1))).toBeUndefined();
    expect(store.authenticate('')).toBeUndefined();
  });

  it('lets operators do what viewers do, not the other way round', () => {
    expect(allows('operator', 'viewer')).toBe(true);
    expect(allows('operator', 'operator')).toBe(true);
    expect(allows('viewer', 'viewer')).toBe(true);
    expect(allows('viewer', 'operator')).toBe(false);
  });

  it('reads Bearer headers', () => {
    expect(bearer(`Bearer ${V}`)).toBe(V);
    expect(bearer(`bearer  ${V} `)).toBe(V);
    expect(bearer(`Basic ${V}`)).toBeUndefined();
    expect(bearer(undefined)).toBeUndefined();
    expect(bearer('Bearer a b')).toBeUndefined();
  });
});

describe('loadTokens', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'plinth-api-tokens-'));

  it('merges API_TOKENS and API_TOKENS_FILE and reloads the file when it changes', async () => {
    const file = join(dir(), 'tokens');
    writeFileSync(file, `operator:${O}\n`);
    const t = loadTokens({ API_TOKENS: `viewer:${V}`, API_TOKENS_FILE: file, API_DEV_TOKENS_FILE: join(dir(), 'dev') }, true);
    expect(t.specs.map((s) => s.role)).toEqual(['viewer', 'operator']);
    expect(t.generated).toBeUndefined();
    expect(t.reload?.()).toBeUndefined();
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(file, `operator:${O}-rotated\n`);
    expect(t.reload?.()?.[1]?.token).toBe(`${O}-rotated`);
  });

  it('refuses to start without tokens off loopback', () => {
    expect(() => loadTokens({ API_DEV_TOKENS_FILE: join(dir(), 'dev') }, false)).toThrow(/no API tokens/);
  });

  it('generates a viewer and an operator token for loopback dev, 0600, and reuses them', () => {
    const file = join(dir(), 'sub', 'api-tokens');
    const first = loadTokens({ API_DEV_TOKENS_FILE: file }, true);
    expect(first.generated?.file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(`viewer:${first.generated!.viewer}`);
    expect(text).toMatch(/^operator:\S{32}$/m);
    const again = loadTokens({ API_DEV_TOKENS_FILE: file }, true);
    expect(again.generated?.viewer).toBe(first.generated?.viewer);
  });
});

describe('describeWindow', () => {
  it('names a rate-limit window in the largest whole unit', () => {
    expect(describeWindow(60_000)).toBe('1 minute');
    expect(describeWindow(120_000)).toBe('2 minutes');
    expect(describeWindow(90_000)).toBe('90 seconds');
    expect(describeWindow(1000)).toBe('1 second');
    expect(describeWindow(3_600_000)).toBe('1 hour');
    expect(describeWindow(1500)).toBe('1500 ms');
  });
});
