// A tiny process supervisor. Each child runs in its own process group
// (detached) so a terminal Ctrl-C reaches only us and we decide the stop
// order; stop() then signals whole groups so grandchildren go too.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const alive = (pid) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed run whose parent never reaps it (PID 1 in a container) is a zombie.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return true;
  }
};

// After the leader has exited only the group is signalled: its bare pid may
// already belong to an unrelated process.
const killGroup = (pid, signal, { groupOnly = false } = {}) => {
  try {
    process.kill(-pid, signal);
  } catch {
    if (groupOnly) return;
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
};

export class Supervisor {
  /** @param {{ logDir: string, pidFile: string, logPrefix?: string }} opts */
  constructor({ logDir, pidFile, logPrefix = '' }) {
    this.logDir = logDir;
    this.pidFile = pidFile;
    this.logPrefix = logPrefix;
    this.children = [];
    this.dirs = [];
    this.stopping = false;
    this.onUnexpectedExit = (name, code) => console.error(`[${name}] exited unexpectedly (${code}); see ${this.logFile(name)}`);
    mkdirSync(logDir, { recursive: true });
    mkdirSync(dirname(pidFile), { recursive: true });
    this.reapStale();
    this.pruneLogs();
  }

  /** Throwaway runs log as <mode>-<pid>-<name>.log; drop dead runs' after a day. */
  pruneLogs() {
    for (const f of readdirSync(this.logDir)) {
      const m = /^[a-z]+-(\d+)-.+\.log$/.exec(f);
      if (!m || alive(Number(m[1]))) continue;
      const file = join(this.logDir, f);
      if (Date.now() - statSync(file).mtimeMs > 24 * 3600_000) rmSync(file, { force: true });
    }
  }

  logFile(name) {
    return join(this.logDir, `${this.logPrefix}${name}.log`);
  }

  /**
   * If an earlier run was killed with SIGKILL it could not stop its children;
   * they are listed in its pid file, so finish the job now.
   */
  reapStale() {
    const dir = dirname(this.pidFile);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pids.json')) : [];
    for (const f of files) {
      const file = join(dir, f);
      try {
        const { owner, children, dirs = [] } = JSON.parse(readFileSync(file, 'utf8'));
        if (alive(owner)) continue; // a live run owns them
        for (const { pid, cmd } of children) {
          const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
          if (cmdline.includes(cmd)) {
            console.log(`[plinth] stopping leftover ${cmd} (pid ${pid}) from an earlier run`);
            killGroup(pid, 'SIGKILL');
          }
        }
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      } catch {
        /* unreadable: drop it */
      }
      rmSync(file, { force: true });
    }
  }

  savePids() {
    const children = this.children.filter((c) => c.running).map((c) => ({ pid: c.child.pid, cmd: c.cmd }));
    writeFileSync(this.pidFile, JSON.stringify({ owner: process.pid, children, dirs: this.dirs }));
  }

  /** A temp dir to delete if this run dies without cleaning up. */
  trackDir(dir) {
    this.dirs.push(dir);
    this.savePids();
  }

  /**
   * Starts a child. Its output is written to the log file and, when `echo`,
   * also to our stdout with a `[name]` prefix on every line.
   */
  start(name, cmd, args, { env = process.env, cwd, echo = true } = {}) {
    const logFile = this.logFile(name);
    const out = createWriteStream(logFile, { flags: 'a' });
    out.write(`\n=== ${new Date().toISOString()} start ${name} ===\n`);
    const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const entry = { name, cmd, child, running: true, logFile, exited: null };
    entry.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        entry.running = false;
        out.end(`=== exit ${code ?? signal} ===\n`);
        if (!this.stopping && !entry.expected) {
          this.savePids();
          this.onUnexpectedExit(name, code ?? signal);
        }
        resolve(code ?? signal);
      });
      child.once('error', (e) => {
        entry.running = false;
        out.end(`=== failed to start: ${e.message} ===\n`);
        if (!this.stopping) this.onUnexpectedExit(name, e.message);
        resolve(e.message);
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      let carry = '';
      stream.on('data', (buf) => {
        out.write(buf);
        if (!echo) return;
        const lines = (carry + buf.toString()).split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
      });
      stream.on('end', () => {
        if (echo && carry) process.stdout.write(`[${name}] ${carry}\n`);
      });
    }
    this.children.push(entry);
    this.savePids();
    return { logFile, alive: () => entry.running, exited: entry.exited, pid: child.pid };
  }

  /** Stops children newest first: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000) {
    this.stopping = true;
    for (const entry of [...this.children].reverse()) {
      if (entry.running) await this.stopEntry(entry, graceMs);
    }
    // Also covers a stop that lands before the stack's own cleanup exists.
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    rmSync(this.pidFile, { force: true });
  }

  /** Stops one child by name (e.g. a LocalStack that never became healthy). */
  async stopOne(name, graceMs = 10_000) {
    const entry = this.children.find((c) => c.name === name && c.running);
    if (!entry) return;
    entry.expected = true;
    await this.stopEntry(entry, graceMs);
  }

  async stopEntry(entry, graceMs) {
    killGroup(entry.child.pid, 'SIGTERM');
    let timer;
    const timeout = new Promise((r) => (timer = setTimeout(r, graceMs, 'timeout')));
    const first = await Promise.race([entry.exited, timeout]);
    clearTimeout(timer);
    if (first === 'timeout') {
      console.log(`[plinth] ${entry.name} ignored SIGTERM for ${graceMs / 1000} s; killing it`);
      killGroup(entry.child.pid, 'SIGKILL');
      await entry.exited;
    }
    // Grandchildren in the group that outlived their parent.
    killGroup(entry.child.pid, 'SIGKILL', { groupOnly: true });
  }

  /** Last resort (second Ctrl-C): kill everything now. */
  killAll() {
    this.stopping = true;
    for (const entry of this.children) if (entry.running) killGroup(entry.child.pid, 'SIGKILL');
    rmSync(this.pidFile, { force: true });
  }
}
