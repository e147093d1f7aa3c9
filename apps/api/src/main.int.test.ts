import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshRedis } from '../../../test/support/ec2.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
let stack: Stack;
let redisUrl: string;
let child: ChildProcess | undefined;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts apps/api/src/main.ts as `npm run dev` does and waits until `ready` appears in its output. */
async function start(env: Record<string, string>, ready: RegExp): Promise<{ output: () => string; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, ['--conditions=plinth-src', '--import', 'tsx', join(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_SUPPRESS_NODEJS_VERSION_WARNING: '1',
      REDIS_URL: redisUrl,
      AWS_REGION: stack.region,
      EC2_ENDPOINT: stack.ec2Endpoint,
      API_KUBERNETES: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const until = Date.now() + 30_000;
  while (!ready.test(out)) {
    if (proc.exitCode !== null) throw new Error(`api exited with ${proc.exitCode}:\n${out}`);
    if (Date.now() > until) throw new Error(`api not ready within 30 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { output: () => out, exited };
}

beforeAll(async () => {
  stack = requireStack();
  redisUrl = await freshRedis(stack.redisUrl, 13);
});

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

describe('the api process', () => {
  it('in dev (loopback, no tokens) prints its URL and a viewer token, keeps both tokens in a 0600 file, and logs neither', async () => {
    const port = await freePort();
    const file = join(mkdtempSync(join(tmpdir(), 'plinth-api-dev-')), 'api-tokens');
    const api = await start({ API_ADDRESS: `127.0.0.1:${port}`, API_DEV_TOKENS_FILE: file }, /admin API listening/);
    const tokens = Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => /^(viewer|operator):/.test(l))
        .map((l) => l.split(':') as [string, string]),
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const out = api.output();
    expect(out).toContain(`http://127.0.0.1:${port}`);
    expect(out).toMatch(new RegExp(`viewer token\\s+${tokens.viewer}`));
    expect(out).not.toContain(tokens.operator);
    // The banner is the only place: no JSON log line carries the viewer token.
    expect(out.split('\n').filter((l) => l.startsWith('{') && l.includes(tokens.viewer!))).toEqual([]);

    const url = `http://127.0.0.1:${port}/v1/capacity?type=gp3`;
    expect((await fetch(url, { headers: { authorization: `Bearer ${tokens.viewer}` } })).status).toBe(200);
    expect((await fetch(url)).status).toBe(401);
    const forbidden = await fetch(`http://127.0.0.1:${port}/v1/jobs/1`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(forbidden.status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${port}/v1/jobs/1`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.operator}` } })).status).toBe(404);

    child!.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });

  it('refuses to start on a non-loopback address without tokens', async () => {
    const port = await freePort();
    await expect(start({ API_ADDRESS: `0.0.0.0:${port}` }, /admin API listening/)).rejects.toThrow(/exited with 1[\s\S]*no API tokens/);
  });

  it('names every bad setting and exits 2', async () => {
    await expect(start({ API_ADDRESS: 'nope', CAPACITY_QUOTAS_GIB: 'gp3=lots' }, /listening/)).rejects.toThrow(
      /exited with 2[\s\S]*API_ADDRESS[\s\S]*CAPACITY_QUOTAS_GIB/,
    );
  });

  it('serves HTTPS with API_TLS_CERT/API_TLS_KEY and tokens from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-api-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    const tokensFile = join(dir, 'tokens');
    const token = 'a-viewer-token-from-a-secret-0001';
    execFileSync('sh', ['-c', `printf 'viewer:${token}\\n' > ${tokensFile}`]);
    const port = await freePort();
    const api = await start(
      { API_ADDRESS: `127.0.0.1:${port}`, API_TLS_CERT: join(dir, 'cert.pem'), API_TLS_KEY: join(dir, 'key.pem'), API_TOKENS_FILE: tokensFile },
      /admin API listening/,
    );
    expect(api.output()).toContain(`https://127.0.0.1:${port}`);
    expect(api.output()).not.toContain(token);
    const get = (path: string, auth?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, headers: auth ? { authorization: `Bearer ${auth}` } : {} }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('/healthz')).toBe(200);
    expect(await get('/v1/zones', token)).toBe(200);
    expect(await get('/v1/zones', 'not-the-token-at-all-000')).toBe(401);
  });
});
