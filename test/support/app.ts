import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { callUnary, IdentityClient } from '@plinth/csi';

const ROOT = join(import.meta.dirname, '..', '..');

// Apps started here never outlive the test process, however it ends.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface AppProcess {
  endpoint: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL (no clean-up at all) and wait for exit. */
  kill(): Promise<void>;
}

/** What the app's image runs after `node`: its Dockerfile's ENTRYPOINT (V8 flags, then dist/<app>.mjs). */
export function imageArgs(app: string): string[] {
  const file = join(ROOT, 'infra', 'docker', `${app}.Dockerfile`);
  const json = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(file, 'utf8'))?.[1];
  const argv = json ? (JSON.parse(json) as string[]) : [];
  if (argv[0] !== 'node') throw new Error(`${file}: no ENTRYPOINT ["node", …]`);
  return argv.slice(1);
}

/**
 * How an app runs: with PLINTH_BUNDLES set (by scripts/run.mjs for sanity, bench, chaos, soak and the Kubernetes
 * e2e), the bundle scripts/bundle.mjs made there, as the image runs it (its ENTRYPOINT's arguments, from the
 * bundle's directory as WORKDIR, beside its package.json); otherwise the TypeScript source under tsx, so a test
 * sees an edit without a rebuild.
 */
function appCommand(entry: string): { args: string[]; cwd: string } {
  const bundles = process.env.PLINTH_BUNDLES;
  const app = /^apps\/([^/]+)\//.exec(entry)?.[1];
  if (bundles && app) return { args: imageArgs(app), cwd: join(bundles, app) };
  return { args: ['--conditions=plinth-src', '--import', 'tsx', join(ROOT, entry)], cwd: ROOT };
}

/**
 * Starts a Plinth app (`entry`, e.g. apps/controller/src/main.ts) as a child
 * process serving CSI on `endpoint`, with `env` over a minimal environment,
 * and waits until it answers Probe.
 */
export async function startApp(name: string, entry: string, endpoint: string, env: Record<string, string>): Promise<AppProcess> {
  const { args, cwd } = appCommand(entry);
  const child = spawn(process.execPath, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      LOG_LEVEL: 'info',
      CSI_ENDPOINT: endpoint,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const app: AppProcess = {
    endpoint,
    child,
    output: () => out,
    async stop(graceMs = 10_000) {
      if (!running()) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };

  const identity = new IdentityClient(endpoint, credentials.createInsecure());
  try {
    const until = Date.now() + 30_000;
    for (;;) {
      if (!running()) throw new Error(`${name} exited with ${child.exitCode}:\n${out}`);
      try {
        await callUnary(identity, 'probe', {}, { timeoutMs: 1000 });
        return app;
      } catch {
        if (Date.now() > until) {
          await app.kill();
          throw new Error(`${name} did not answer Probe within 30 s:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    identity.close();
  }
}
