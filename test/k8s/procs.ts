/** Child processes of the e2e (control plane, sidecars): output to a log file, always killed when the run ends. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { Fatal } from './kube.js';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  tail(lines?: number): string;
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function startProc(name: string, bin: string, args: string[], opts: { logDir: string; env?: NodeJS.ProcessEnv; cwd?: string }): Proc {
  const logFile = join(opts.logDir, `${name}.log`);
  const out = createWriteStream(logFile);
  out.write(`$ ${basename(bin)} ${args.join(' ')}\n`);
  const child = spawn(bin, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let recent = '';
  const keep = (d: Buffer): void => {
    out.write(d);
    recent = (recent + d.toString()).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      out.end(`\n[exited: ${signal ?? code}]\n`);
      resolve();
    }),
  );
  child.once('error', (e) => keep(Buffer.from(`spawn error: ${e.message}\n`)));
  const running = (): boolean => child.exitCode === null && child.signalCode === null && live.has(child);
  return {
    name,
    child,
    logFile,
    running,
    tail: (lines = 30) => recent.split('\n').slice(-lines).join('\n'),
    async stop(graceMs = 5000) {
      if (running()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** A TCP port on 127.0.0.1 nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Fails fast with the process's last output when it died while we waited for it. */
export function assertRunning(p: Proc): void {
  if (!p.running()) throw new Fatal(`${p.name} exited (${p.child.signalCode ?? p.child.exitCode}); last output (full log ${p.logFile}):\n${p.tail()}`);
}
