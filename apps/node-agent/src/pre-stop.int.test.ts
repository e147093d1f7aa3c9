/**
 * The preStop hook (`main.ts pre-stop`) as a real process against a real kube-apiserver (test/k8s's throwaway
 * control plane on loopback: etcd, kube-apiserver, kube-controller-manager from ~/.cache/plinth/k8s, built
 * once if missing). Nodes and VolumeAttachments are the test's own objects: no kubelet, no attacher.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, ensureK8sBinaries } from '../../../test/k8s/build.js';
import { startControlPlane, type ControlPlane } from '../../../test/k8s/cluster.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DRIVER = 'ebs.csi.plinth.dev';
let cp: ControlPlane;

beforeAll(async () => {
  await ensureK8sBinaries({ only: ['etcd', 'kube-apiserver', 'kube-controller-manager'] });
  const dir = await mkdtemp(join(tmpdir(), 'plinth-prestop-'));
  await mkdir(join(dir, 'logs'));
  cp = await startControlPlane({ dir, logDir: join(dir, 'logs'), bin: (n) => binPath(n), log: () => undefined });
}, 30 * 60_000);
afterAll(() => cp?.stop(), 60_000);

/** Runs `pre-stop` and resolves with its exit code, output and run time; `exited()` tells whether it has ended yet. */
function runPreStop(node: string, timeoutMs = 60_000) {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--conditions=plinth-src', '--import', 'tsx', join(ROOT, 'apps/node-agent/src/main.ts'), 'pre-stop'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      KUBECONFIG: cp.kubeconfig,
      KUBE_NODE_NAME: node,
      PLINTH_DRIVER_NAME: DRIVER,
      PRE_STOP_TIMEOUT_MS: String(timeoutMs),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  let ended = false;
  const done = new Promise<{ code: number | null; out: string; seconds: number }>((resolve) =>
    child.once('exit', (code) => {
      ended = true;
      resolve({ code, out, seconds: (performance.now() - t0) / 1000 });
    }),
  );
  return { done, exited: () => ended, kill: () => child.kill('SIGKILL') };
}

const node = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec });
const attachment = (name: string, nodeName: string, attacher = DRIVER) => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'VolumeAttachment',
  metadata: { name },
  spec: { attacher, nodeName, source: { persistentVolumeName: `pv-${name}` } },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pre-stop against a real kube-apiserver', () => {
  it('returns at once on a node that is not being drained, though volumes are attached (a DaemonSet rollout)', async () => {
    await cp.kube.apply(node('rolling', {}));
    await cp.kube.apply(attachment('csi-rolling-1', 'rolling'));
    const r = await runPreStop('rolling').done;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('"outcome":"not-draining"');
  }, 60_000);

  it('on a cordoned node, waits until the last of its VolumeAttachments is deleted, ignoring other nodes and drivers', async () => {
    await cp.kube.apply(node('draining', { unschedulable: true }));
    await cp.kube.apply(attachment('csi-draining-1', 'draining'));
    await cp.kube.apply(attachment('csi-draining-2', 'draining'));
    await cp.kube.apply(attachment('csi-elsewhere', 'rolling'));
    await cp.kube.apply(attachment('other-driver', 'draining', 'ebs.csi.aws.com'));
    const p = runPreStop('draining');
    try {
      await sleep(4000);
      expect(p.exited()).toBe(false);
      await cp.kube.delete('/apis/storage.k8s.io/v1/volumeattachments/csi-draining-1');
      await sleep(2000);
      expect(p.exited()).toBe(false);
      await cp.kube.delete('/apis/storage.k8s.io/v1/volumeattachments/csi-draining-2');
      const r = await p.done;
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('"outcome":"detached"');
    } finally {
      p.kill();
    }
  }, 90_000);

  it('gives up after PRE_STOP_TIMEOUT_MS, still exiting 0 and naming what is left', async () => {
    await cp.kube.apply(node('stuck', { taints: [{ key: 'karpenter.sh/disruption', value: 'disrupting', effect: 'NoSchedule' }] }));
    await cp.kube.apply(attachment('csi-stuck-1', 'stuck'));
    const r = await runPreStop('stuck', 3000).done;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('"outcome":"timeout"');
    expect(r.out).toContain('csi-stuck-1');
  }, 60_000);
});
