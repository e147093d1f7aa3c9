import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { callUnary, IdentityClient } from '@plinth/csi';

const ROOT = join(import.meta.dirname, '..', '..');

export interface NodeAgentProcess {
  endpoint: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts the real node agent (apps/node-agent/src/main.ts) as a child process
 * with `env` on top of a minimal environment and waits until it answers Probe.
 */
export async function startNodeAgent(endpoint: string, env: Record<string, string>): Promise<NodeAgentProcess> {
  const child = spawn(process.execPath, ['--conditions=plinth-src', '--import', 'tsx', join(ROOT, 'apps/node-agent/src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'info',
      CSI_ENDPOINT: endpoint,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const identity = new IdentityClient(endpoint, credentials.createInsecure());
  try {
    const until = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`node agent exited with ${child.exitCode}:\n${out}`);
      try {
        await callUnary(identity, 'probe', {}, { timeoutMs: 1000 });
        break;
      } catch {
        if (Date.now() > until) {
          await stop(0);
          throw new Error(`node agent did not answer Probe within 30 s:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    identity.close();
  }
  return { endpoint, child, output: () => out, stop };
}
