import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { callUnary, ControllerClient, IdentityClient } from '@plinth/csi';

const ROOT = join(import.meta.dirname, '..', '..');

// Controllers started here never outlive the test process, however it ends.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface ControllerProcess {
  endpoint: string;
  controller: ControllerClient;
  identity: IdentityClient;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL (no clean-up at all) and wait for exit. */
  kill(): Promise<void>;
}

/**
 * Starts the real controller (apps/controller/src/main.ts) as a child process
 * on a fresh unix socket and waits until it answers Probe.
 */
export async function startController(env: Record<string, string>, opts: { endpoint?: string } = {}): Promise<ControllerProcess> {
  const endpoint = opts.endpoint ?? `unix://${join(mkdtempSync(join(tmpdir(), 'plinth-ctl-')), 'csi.sock')}`;
  const child = spawn(process.execPath, ['--conditions=plinth-src', '--import', 'tsx', join(ROOT, 'apps/controller/src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'info',
      CSI_ENDPOINT: endpoint,
      SHUTDOWN_GRACE_MS: '3000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const controller = new ControllerClient(endpoint, credentials.createInsecure());
  const identity = new IdentityClient(endpoint, credentials.createInsecure());

  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`controller exited with ${child.exitCode}:\n${out}`);
    try {
      await callUnary(identity, 'probe', {}, { timeoutMs: 1000 });
      break;
    } catch {
      if (Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`controller did not answer Probe within 30 s:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    endpoint,
    controller,
    identity,
    child,
    output: () => out,
    async stop() {
      controller.close();
      identity.close();
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      controller.close();
      identity.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
