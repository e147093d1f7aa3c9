// Small helpers shared by scripts/run.mjs. Node builtins only: this runs
// before node_modules exists.
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const log = (msg) => console.log(`[plinth] ${msg}`);

/** A warning nobody can scroll past. */
export function boxed(lines) {
  const width = Math.max(...lines.map((l) => l.length)) + 2;
  const bar = '!'.repeat(width + 2);
  console.log(['', bar, ...lines.map((l) => `!${` ${l}`.padEnd(width)}!`), bar, ''].join('\n'));
}

/** Hide credentials in a URL (redis://:secret@host -> redis://:***@host). */
export function maskUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    else if (u.username && u.protocol.startsWith('redis')) u.username = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** Finds an executable on PATH (plus sbin dirs, which non-root PATHs often lack). */
export function which(cmd) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return join(d, cmd);
    } catch {
      /* keep looking */
    }
  }
  return null;
}

/**
 * Runs a command (argument array, no shell) to completion. Output goes to the
 * terminal unless `logFile` is given. Resolves with the exit code; rejects only
 * if the command cannot be started. `timeoutMs` kills it with SIGKILL.
 */
export function run(cmd, args, { env = process.env, cwd = ROOT, timeoutMs = 30 * 60_000, stdio = 'inherit', onChild } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio, timeout: timeoutMs, killSignal: 'SIGKILL' });
    onChild?.(child);
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function portInUse(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (async, returns truthy when ready) until it is or time runs out. */
export async function waitFor(what, check, { timeoutMs, intervalMs = 250, alive = () => true, logFile }) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`${what} exited before it became ready${tailOf(logFile)}`);
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what} not ready after ${Math.round(timeoutMs / 1000)} s${lastErr ? ` (last error: ${lastErr.message})` : ''}${tailOf(logFile)}`);
}

export function tailOf(file, lines = 30) {
  if (!file) return '';
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `\n--- last lines of ${file} ---\n${text}\n---`;
  } catch {
    return '';
  }
}

/**
 * GET without keep-alive (fetch() pools connections, and LocalStack's server
 * then waits for them on shutdown). Resolves { status, body }.
 */
export function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.once('error', reject);
  });
}
