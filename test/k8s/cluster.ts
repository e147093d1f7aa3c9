/**
 * A throwaway Kubernetes control plane on loopback: etcd (data in a temp dir), kube-apiserver and
 * kube-controller-manager (the PV binder, expander and protection controllers, the attach/detach controller that
 * makes VolumeAttachments for the Pods of the real node (./node.ts), and the ServiceAccount controllers).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kube, waitFor } from './kube.js';
import { makePki, writeKubeconfig, type Pki } from './pki.js';
import { assertRunning, freePort, startProc, type Proc } from './procs.js';

const KCM_CONTROLLERS = [
  'persistentvolume-binder-controller',
  'persistentvolume-expander-controller',
  'persistentvolume-protection-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-attach-detach-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'pod-garbage-collector-controller',
  // Lifts node.kubernetes.io/not-ready, which the kubelet registers the Node with, once the Node is Ready.
  'node-lifecycle-controller',
];

export interface ControlPlane {
  server: string;
  kubeconfig: string;
  pki: Pki;
  kube: Kube;
  procs: Proc[];
  /** Fails with the dead process's output if any control-plane process has exited. */
  check(): void;
  stop(): Promise<void>;
}

export async function startControlPlane(o: { dir: string; logDir: string; bin: (name: string) => string; log: (m: string) => void }): Promise<ControlPlane> {
  const pkiDir = join(o.dir, 'pki');
  await mkdir(pkiDir, { recursive: true });
  const pki = await makePki(pkiDir);
  const procs: Proc[] = [];
  const stop = async (): Promise<void> => {
    for (const p of [...procs].reverse()) await p.stop();
  };
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = startProc(
      'etcd',
      o.bin('etcd'),
      [
        '--name=e2e',
        `--data-dir=${join(o.dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=e2e=${peerUrl}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      { logDir: o.logDir },
    );
    procs.push(etcd);
    await waitFor(
      'etcd /health',
      async () => {
        assertRunning(etcd);
        const r = await fetch(`${etcdUrl}/health`);
        return r.ok ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );

    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = startProc(
      'kube-apiserver',
      o.bin('kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${pki.serverCert}`,
        `--tls-private-key-file=${pki.serverKey}`,
        `--client-ca-file=${pki.caCert}`,
        `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
        `--service-account-key-file=${pki.saPub}`,
        `--service-account-signing-key-file=${pki.saKey}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        // The "kubernetes" Service's endpoints may not be a loopback address.
        '--endpoint-reconciler-type=none',
        '--enable-priority-and-fairness=false',
        '--profiling=false',
        '--v=1',
      ],
      { logDir: o.logDir },
    );
    procs.push(apiserver);
    const kube = new Kube(server, { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey });
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        assertRunning(apiserver);
        await kube.request('GET', '/readyz');
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const kubeconfig = join(o.dir, 'kubeconfig');
    await writeKubeconfig(kubeconfig, server, pki);

    const kcm = startProc(
      'kube-controller-manager',
      o.bin('kube-controller-manager'),
      [
        `--kubeconfig=${kubeconfig}`,
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        `--controllers=${KCM_CONTROLLERS.join(',')}`,
        '--secure-port=0',
        `--root-ca-file=${pki.caCert}`,
        `--service-account-private-key-file=${pki.saKey}`,
        // Attach/detach: reconcile every second (default 1 m for the sync of what is attached).
        '--attach-detach-reconcile-sync-period=5s',
        // PV controller resyncs: default 15 s; quicker binding retries keep the flows short.
        '--pvclaimbinder-sync-period=2s',
        '--v=2',
      ],
      { logDir: o.logDir },
    );
    procs.push(kcm);
    // kube-controller-manager has no health endpoint with --secure-port=0: give it a moment and check it lives.
    await new Promise((r) => setTimeout(r, 1500));
    assertRunning(kcm);
    o.log(`control plane up: ${server} (etcd ${etcdUrl}; kubeconfig ${kubeconfig})`);
    return {
      server,
      kubeconfig,
      pki,
      kube,
      procs,
      check: () => procs.forEach(assertRunning),
      stop: async () => {
        kube.close();
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
