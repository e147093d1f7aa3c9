/**
 * End-to-end on a real Kubernetes control plane: etcd, kube-apiserver and kube-controller-manager (built from
 * the Go module proxy by ./build.ts, cached outside the repo), the CSI sidecars and snapshot-controller, and
 * Plinth's controller and node agent, on the stack in the environment (REDIS_URL, EC2_ENDPOINT, AWS_REGION,
 * PLINTH_TEST_NODE_ID, PLINTH_TEST_ZONE, PLINTH_TEST_INSTANCE_TYPE; `npm run e2e:k8s` brings it up).
 *
 *   node --conditions=plinth-src --import tsx test/k8s/run.ts [--keep] [flow…]
 *
 * 1. Renders infra/helm/plinth (with every optional object switched on) and has the API server dry-run
 *    every object (server-side apply, strict field validation); kinds whose CRD is not installed
 *    (ServiceMonitor) are skipped with a note.
 * 2. Installs the snapshot CRDs, applies the chart's CSIDriver, StorageClasses and VolumeSnapshotClass,
 *    registers a Node and its CSINode from the node agent's NodeGetInfo (as kubelet would).
 * 3. Runs the flows and prints each one's time from apply to the expected state.
 *
 * Process logs go to test-results/k8s-e2e/. Everything is torn down at the end, however the run ends:
 * processes, the etcd data dir, the run's EC2 volumes and snapshots, its Redis database. `--keep` leaves
 * the control plane up after the flows (Ctrl-C to tear down), with a kubeconfig to poke at it.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DetachVolumeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { status } from '@grpc/grpc-js';
import { callUnary, ControllerServiceCapability_RPC_Type as Rpc } from '@plinth/csi';
import { TAG_CLUSTER } from '@plinth/cloud';
import { ensureHelm, renderChart, BASE_FILE } from '../infra/helm.js';
import { parseManifests } from '../infra/manifests.js';
import { startController, testControllerEnv, type ControllerProcess } from '../support/controller.js';
import { ec2Of, flushRedis, freshRedis, volumeById } from '../support/ec2.js';
import { createFakeHost, mountsUnder, type FakeHost } from '../support/nvme.js';
import { startNitro, type NitroHost } from '../nitro/emulator.js';
import { startEc2Proxy, type Ec2Proxy } from '../nitro/ec2-proxy.js';
import { startEbsDirect, type EbsDirect } from '../nitro/ebs-direct.js';
import { requireStack, type Stack } from '../support/stack.js';
import { startNodeAgent, type NodeAgentProcess } from '../sanity/node-agent.js';
import { deleteClusterSnapshots, deleteClusterVolumes } from '../sanity/volumes.js';
import { backupClient, type BackupClient, type BlockMap } from './backup-client.js';
import {
  binDir,
  binPath,
  ensureK8sBinaries,
  ensureNodePackages,
  snapshotCrdFiles,
  snapshotMetadataFiles,
  type BuildReport,
  type SnapshotMetadataFiles,
} from './build.js';
import { startControlPlane, type ControlPlane } from './cluster.js';
import { processesOf, shimPids, startNode, type RealNode } from './node.js';
import { BLOCK, DATA, deletePod, podOf, podPath, podResult, podRunning, unschedulable, type PodObj } from './pods.js';
import { Fatal, waitFor as pollUntil, type Kube, type KubeObject } from './kube.js';
import { writeTokenKubeconfig } from './pki.js';
import { assertRunning, freePort, startProc, type Proc } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LOG_DIR = join(ROOT, 'test-results', 'k8s-e2e');
/** Redis database of this tier (integration 1–11, sanity 12, api 12–14). */
const REDIS_DB = 15;
const NODE_NAME = 'plinth-e2e-node';
const SC = { immediate: 'plinth-e2e-immediate', wffc: 'plinth-e2e-wffc', retain: 'plinth-e2e-retain', xfs: 'plinth-e2e-xfs' };
const SNAP_CLASS = 'plinth-e2e-snapclass';
const BASE_VAC = 'plinth-e2e-gp3-base';
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** The node agent's MAX_VOLUMES_PER_NODE: small, so the attach-limit flow reaches it with two Pods. */
const ATTACH_LIMIT = 2;

const log = (m: string): void => console.log(`[k8s-e2e] ${m}`);
const execText = async (cmd: string, args: string[]): Promise<string> => (await promisify(execFile)(cmd, args, { timeout: 30_000 })).stdout;

/** Checked on every poll of every wait once the flows run: a dead process or Ctrl-C ends the wait at once. */
let guard = (): void => undefined;
const waitFor: typeof pollUntil = (what, check, opts) =>
  pollUntil(
    what,
    async () => {
      guard();
      return check();
    },
    opts,
  );
const secs = (t0: number): number => (Date.now() - t0) / 1000;

// ── what the chart is rendered with ─────────────────────────────────────────────────────────────────────

/** Values that switch on every optional object of the chart, pointed at this run's cluster id and stack. */
function e2eValues(clusterId: string, stack: Stack, caCert: string): Record<string, unknown> {
  return {
    clusterId,
    region: stack.region,
    ec2Endpoint: stack.ec2Endpoint,
    'redis.url': 'redis://:e2e-password@plinth-redis.kube-system.svc:6379/0',
    'redis.password': 'e2e-password',
    'sidecars.snapshotter.enabled': true,
    // Changed-block tracking: external-snapshot-metadata, serving with a certificate of the run's CA.
    'sidecars.snapshotMetadata.enabled': true,
    'sidecars.snapshotMetadata.caCert': caCert,
    'serviceMonitor.enabled': true,
    // The node agent registers with the kubelet and serves /healthz itself: node-driver-registrar and livenessprobe
    // cannot be built here (the module proxy refuses both modules at every version) and their sources stay out of
    // this repo (docs/kubernetes.md, "What is not covered").
    'node.builtinRegistration': true,
    'controller.enableNodeLocalVolumes': true,
    storageClasses: [
      { name: SC.immediate, volumeBindingMode: 'Immediate', reclaimPolicy: 'Delete', parameters: { type: 'gp3' } },
      { name: SC.wffc, volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete', parameters: { type: 'gp3', 'csi.storage.k8s.io/fstype': 'ext4' } },
      { name: SC.retain, volumeBindingMode: 'Immediate', reclaimPolicy: 'Retain', parameters: { type: 'gp3' } },
      { name: SC.xfs, volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete', parameters: { type: 'gp3', 'csi.storage.k8s.io/fstype': 'xfs' } },
    ],
    volumeSnapshotClasses: [{ name: SNAP_CLASS, deletionPolicy: 'Delete', parameters: { tagSpecification_1: 'suite=k8s-e2e' } }],
    extraVolumeTags: { suite: 'k8s-e2e' },
  };
}

/** Server-side dry-run of every object; returns the kinds skipped because the server does not serve them. */
async function dryRunAll(kube: Kube, what: string, objects: KubeObject[]): Promise<{ accepted: number; skipped: string[] }> {
  let accepted = 0;
  const skipped: string[] = [];
  const failures: string[] = [];
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.name}`;
    if (!(await kube.serves(o.apiVersion, o.kind))) {
      skipped.push(`${id} (${o.apiVersion}: not served)`);
      continue;
    }
    try {
      await kube.apply(o, { dryRun: true });
      accepted++;
    } catch (e) {
      failures.push(`${id}: ${(e as Error).message}`);
    }
  }
  if (failures.length) throw new Error(`${what}: the API server rejected ${failures.length} object(s):\n  ${failures.join('\n  ')}`);
  return { accepted, skipped };
}

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

/**
 * A sidecar container of the chart as a process here: its args and env with the pod's socket path and downward
 * API values filled in. There is no pod, so a CSIStorageCapacity owner found by walking up from the pod
 * (--capacity-ownerref-level ≥ 0) becomes "no owner" (-1); `changed` says so.
 */
function asLocalProcess(ctr: Container, socket: string, namespace: string): { args: string[]; env: Record<string, string>; changed: string[] } {
  const env: Record<string, string> = {};
  const changed: string[] = [];
  for (const e of ctr.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = namespace;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${ctr.name}-e2e`;
  }
  if (env.ADDRESS !== undefined) env.ADDRESS = socket;
  const args = (ctr.args ?? []).map((a) => {
    const local = a.replace('$(ADDRESS)', socket);
    if (/^--capacity-ownerref-level=\d+$/.test(local)) {
      changed.push(`${local} → --capacity-ownerref-level=-1 (no controller pod to own the CSIStorageCapacity objects)`);
      return '--capacity-ownerref-level=-1';
    }
    return local;
  });
  return { args, env, changed };
}

// ── flows ────────────────────────────────────────────────────────────────────────────────────────────────

interface StepResult {
  flow: string;
  step: string;
  secs: number;
  ok: boolean;
  error?: string;
}

interface Ctx {
  kube: Kube;
  ec2: EC2Client;
  ns: string;
  driver: string;
  nodeName: string;
  stack: Stack;
  clusterId: string;
  procs: Record<string, Proc>;
  /** The example VolumeAttributesClass (infra/kubernetes/examples). */
  fastVac?: { name: string; parameters: Record<string, string> };
  /** The controller's ControllerGetCapabilities, by name. */
  capabilities: string[];
  /** When the sidecars were started (ms since the epoch). */
  sidecarsStarted: number;
  /** The rendered CSIDriver's spec.storageCapacity. */
  storageCapacity: boolean;
  kubeletRoot: string;
  /** external-snapshot-metadata's API, CRD and client role (the changed-blocks flow). */
  cbt: SnapshotMetadataFiles;
  /** CreateSnapshot calls the emulated host saw (and when EC2's answer went back). */
  snapshotCalls: Ec2Proxy['snapshots'];
  /** The node agent: SIGKILL it, start it again (same socket, same env). */
  agent: { kill(): Promise<void>; restart(): Promise<void> };
  check: () => void;
}

type Pvc = KubeObject & {
  spec: { volumeName?: string; resources: { requests: { storage: string } } };
  status?: { phase?: string; capacity?: { storage?: string } };
};
type Pv = KubeObject & {
  spec: {
    capacity: { storage: string };
    csi?: { volumeHandle: string; driver: string };
    persistentVolumeReclaimPolicy: string;
    nodeAffinity?: { required?: { nodeSelectorTerms: { matchExpressions?: { key: string; values: string[] }[] }[] } };
  };
  status?: { phase?: string };
};
type Va = KubeObject & { status?: { attached?: boolean; attachError?: { message?: string }; detachError?: { message?: string } } };
type Snap = KubeObject & { status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; error?: { message?: string } } };
type Content = KubeObject & { status?: { snapshotHandle?: string; readyToUse?: boolean } };

const pvcPath = (c: Ctx, name: string): string => `/api/v1/namespaces/${c.ns}/persistentvolumeclaims/${name}`;
const pvPath = (name: string): string => `/api/v1/persistentvolumes/${name}`;
const snapPath = (c: Ctx, name: string): string => `/apis/snapshot.storage.k8s.io/v1/namespaces/${c.ns}/volumesnapshots/${name}`;

function pvc(c: Ctx, name: string, sc: string, size: string, extra: { annotations?: Record<string, string>; dataSource?: unknown } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: c.ns, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: sc,
      resources: { requests: { storage: size } },
      ...(extra.dataSource ? { dataSource: extra.dataSource } : {}),
    },
  };
}

/** Events about an object, for failure messages. */
async function eventsOf(c: Ctx, name: string): Promise<string> {
  const list = await c.kube.get<{ items: { involvedObject: { name: string }; reason: string; message: string; source?: { component?: string } }[] }>(
    `/api/v1/namespaces/${c.ns}/events`,
  );
  const mine = list.items.filter((e) => e.involvedObject.name === name);
  return mine.length
    ? `events of ${name}:\n${mine.map((e) => `  ${e.reason} (${e.source?.component ?? '?'}): ${e.message}`).join('\n')}`
    : `no events for ${name}`;
}

async function boundPv(c: Ctx, claim: string, timeoutMs = 90_000): Promise<Pv> {
  const bound = await waitFor(
    `PVC ${claim} Bound`,
    async () => {
      c.check();
      const p = await c.kube.get<Pvc>(pvcPath(c, claim));
      return p.status?.phase === 'Bound' && p.spec.volumeName ? p : undefined;
    },
    { timeoutMs, describe: () => eventsOf(c, claim) },
  );
  return c.kube.get<Pv>(pvPath(bound.spec.volumeName ?? ''));
}

function volumeIdOf(pv: Pv): string {
  const id = pv.spec.csi?.volumeHandle;
  if (!id?.startsWith('vol-')) throw new Error(`PV ${pv.metadata.name} has no EBS volume handle: ${JSON.stringify(pv.spec.csi)}`);
  return id;
}

function zonesOf(pv: Pv): string[] {
  return (pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []).flatMap((t) =>
    (t.matchExpressions ?? []).filter((e) => e.key === 'topology.kubernetes.io/zone').flatMap((e) => e.values),
  );
}

async function expectVolume(c: Ctx, id: string, want: { sizeGiB?: number; state?: string; snapshotId?: string }): Promise<void> {
  const v = await volumeById(c.ec2, id);
  if (!v) throw new Error(`EC2 volume ${id} does not exist`);
  const tag = v.Tags?.find((t) => t.Key === TAG_CLUSTER)?.Value;
  if (tag !== c.clusterId) throw new Error(`EC2 volume ${id} has ${TAG_CLUSTER}=${tag}, want ${c.clusterId}`);
  if (want.sizeGiB !== undefined && v.Size !== want.sizeGiB) throw new Error(`EC2 volume ${id} is ${v.Size} GiB, want ${want.sizeGiB}`);
  if (want.state && v.State !== want.state) throw new Error(`EC2 volume ${id} is ${v.State}, want ${want.state}`);
  if (want.snapshotId && v.SnapshotId !== want.snapshotId)
    throw new Error(`EC2 volume ${id} was created from ${v.SnapshotId ?? 'no snapshot'}, want ${want.snapshotId}`);
}

/** The flows, in order; each names its steps and measures each from apply to the expected state. */
function flows(c: Ctx, step: (label: string, fn: () => Promise<void>, since?: number) => Promise<void>): Record<string, () => Promise<void>> {
  const state: { pv1?: Pv; pvWffc?: Pv; sum?: string } = {};
  const needPv1 = (): Pv => {
    if (!state.pv1) throw new Error('needs the PV of the immediate flow, which failed');
    return state.pv1;
  };
  return {
    capacity: () =>
      step(
        `CSIStorageCapacity for ${SC.wffc} in ${c.stack.zone} (timed from csi-provisioner's start)`,
        async () => {
          if (!c.storageCapacity) throw new Error('the chart renders the CSIDriver with storageCapacity false: no capacity to check');
          if (!c.capabilities.includes('GET_CAPACITY'))
            throw new Error(
              'the chart turns on capacity tracking (CSIDriver storageCapacity: true, --enable-capacity) but the controller does not advertise GET_CAPACITY',
            );
          type Cap = { storageClassName: string; capacity?: string; nodeTopology?: { matchLabels?: Record<string, string> } };
          const found = await waitFor(
            `a CSIStorageCapacity of ${SC.wffc} for ${c.stack.zone}`,
            async () => {
              c.check();
              const list = await c.kube.get<{ items: Cap[] }>('/apis/storage.k8s.io/v1/csistoragecapacities');
              return list.items.find(
                (x) => x.storageClassName === SC.wffc && x.nodeTopology?.matchLabels?.['topology.kubernetes.io/zone'] === c.stack.zone && x.capacity,
              );
            },
            { timeoutMs: 90_000 },
          );
          log(`capacity: ${SC.wffc} in ${c.stack.zone}: ${found.capacity}`);
        },
        c.sidecarsStarted,
      ),

    immediate: () =>
      step('PVC (Immediate) → PV Bound', async () => {
        await c.kube.create(pvc(c, 'data-immediate', SC.immediate, '1Gi'));
        const pv = await boundPv(c, 'data-immediate');
        if (pv.spec.csi?.driver !== c.driver) throw new Error(`PV ${pv.metadata.name} has driver ${pv.spec.csi?.driver}`);
        await expectVolume(c, volumeIdOf(pv), { sizeGiB: 1 });
        state.pv1 = pv;
      }),

    wffc: async () => {
      await step('PVC (WaitForFirstConsumer) stays Pending without a consumer', async () => {
        await c.kube.create(pvc(c, 'data-wffc', SC.wffc, '1Gi'));
        await waitFor('a WaitForFirstConsumer event', async () => ((await eventsOf(c, 'data-wffc')).includes('WaitForFirstConsumer') ? true : undefined), {
          timeoutMs: 30_000,
        });
        const p = await c.kube.get<Pvc>(pvcPath(c, 'data-wffc'));
        if (p.status?.phase !== 'Pending' || p.spec.volumeName)
          throw new Error(`PVC data-wffc is ${p.status?.phase} (volume ${p.spec.volumeName}) before any Pod used it`);
      });
      await step(`Pod → kube-scheduler picks ${c.nodeName} → PV Bound in ${c.stack.zone}, attached, staged, published; the Pod writes a file`, async () => {
        await c.kube.create(
          podOf(
            c.ns,
            'wffc-writer',
            `dd if=/dev/urandom of=${DATA}/file bs=1k count=512 2>/dev/null && sync && sha256sum ${DATA}/file | cut -d' ' -f1 > /dev/termination-log`,
            {
              claim: 'data-wffc',
            },
          ),
        );
        const sum = await podResult(c.kube, c.ns, 'wffc-writer', { check: c.check, timeoutMs: 180_000 });
        if (!/^[0-9a-f]{64}$/.test(sum)) throw new Error(`the writer Pod reported ${JSON.stringify(sum)}`);
        const claim = await c.kube.get<Pvc>(pvcPath(c, 'data-wffc'));
        if (claim.metadata.annotations?.[SELECTED_NODE] !== c.nodeName)
          throw new Error(`PVC data-wffc selected-node is ${claim.metadata.annotations?.[SELECTED_NODE]}, want ${c.nodeName} (set by kube-scheduler)`);
        const pv = await boundPv(c, 'data-wffc');
        const zones = zonesOf(pv);
        if (!zones.includes(c.stack.zone))
          throw new Error(`PV ${pv.metadata.name} node affinity zones ${JSON.stringify(zones)} lack the node's ${c.stack.zone}`);
        const v = await volumeById(c.ec2, volumeIdOf(pv));
        if (v?.AvailabilityZone !== c.stack.zone) throw new Error(`EC2 volume is in ${v?.AvailabilityZone}, want ${c.stack.zone}`);
        state.pvWffc = pv;
        state.sum = sum;
      });
      await step('writer Pod deleted → a new Pod on the same PVC reads the same checksum', async () => {
        await deletePod(c.kube, c.ns, 'wffc-writer');
        await c.kube.create(podOf(c.ns, 'wffc-reader', `sha256sum ${DATA}/file | cut -d' ' -f1 > /dev/termination-log`, { claim: 'data-wffc' }));
        const sum = await podResult(c.kube, c.ns, 'wffc-reader', { check: c.check });
        if (sum !== state.sum) throw new Error(`the reader Pod saw ${sum}, the writer wrote ${state.sum}`);
        await deletePod(c.kube, c.ns, 'wffc-reader');
      });
    },

    readonly: () =>
      step('readOnly mount: a write inside the Pod fails (Read-only file system), the data reads', async () => {
        if (!state.sum) throw new Error('needs the wffc flow');
        await c.kube.create(
          podOf(
            c.ns,
            'readonly',
            `if touch ${DATA}/nope 2>/tmp/err; then echo WROTE > /dev/termination-log; else echo "$(cat /tmp/err) $(sha256sum ${DATA}/file | cut -d' ' -f1)" > /dev/termination-log; fi`,
            { claim: 'data-wffc', readOnly: true },
          ),
        );
        const msg = await podResult(c.kube, c.ns, 'readonly', { check: c.check });
        if (!msg.includes('Read-only file system') || !msg.endsWith(state.sum)) throw new Error(`the readOnly Pod said ${JSON.stringify(msg)}`);
        await deletePod(c.kube, c.ns, 'readonly');
      }),

    block: async () => {
      const text = 'plinth-block-e2e';
      await step('volumeMode Block: a Pod writes bytes at offset 1 MiB of the raw device', async () => {
        const claim = pvc(c, 'data-block', SC.wffc, '1Gi');
        (claim.spec as Record<string, unknown>).volumeMode = 'Block';
        await c.kube.create(claim);
        await c.kube.create(
          podOf(c.ns, 'block-writer', `printf ${text} | dd of=${BLOCK} bs=1 seek=1048576 conv=notrunc 2>/dev/null && sync && echo ok > /dev/termination-log`, {
            claim: 'data-block',
            block: true,
          }),
        );
        const msg = await podResult(c.kube, c.ns, 'block-writer', { check: c.check, timeoutMs: 180_000 });
        if (msg !== 'ok') throw new Error(`block writer said ${msg}`);
        await deletePod(c.kube, c.ns, 'block-writer');
      });
      await step('a second Pod reads the same bytes back from the device', async () => {
        await c.kube.create(
          podOf(c.ns, 'block-reader', `dd if=${BLOCK} bs=1 skip=1048576 count=${text.length} 2>/dev/null > /dev/termination-log`, {
            claim: 'data-block',
            block: true,
          }),
        );
        const msg = await podResult(c.kube, c.ns, 'block-reader', { check: c.check });
        if (msg !== text) throw new Error(`block reader saw ${JSON.stringify(msg)}, want ${text}`);
        await deletePod(c.kube, c.ns, 'block-reader');
      });
    },

    // Changed-block tracking as a backup tool sees it: the SnapshotMetadata service through external-snapshot-metadata.
    'changed-blocks': async () => {
      const MiB = 1024 * 1024;
      const EBS_BLOCK = 512 * 1024;
      type Writes = [offset: number, text: string][];
      const first: Writes = [
        [0, 'cbt-first-0'],
        [3 * MiB + 100, 'cbt-first-3m'],
        [7 * MiB, 'cbt-first-7m'],
      ];
      // One block written over with other bytes, two written for the first time (one of them the volume's last).
      const second: Writes = [
        [3 * MiB + 100, 'cbt-second-3m'],
        [10 * MiB + 4096, 'cbt-second-10m'],
        [1024 * MiB - 16, 'cbt-last'],
      ];
      const blocksOf = (w: Writes): string =>
        [...new Set(w.map(([o]) => Math.floor(o / EBS_BLOCK) * EBS_BLOCK))]
          .sort((a, b) => a - b)
          .map((o) => `${o}+${EBS_BLOCK}`)
          .join(' ');
      const shown = (m: BlockMap): string => m.blocks.map((b) => `${b.offset}+${b.size}`).join(' ');
      const write = async (pod: string, w: Writes): Promise<void> => {
        const dd = w.map(([o, text]) => `printf ${text} | dd of=${BLOCK} bs=1 seek=${o} conv=notrunc 2>/dev/null`).join(' && ');
        await c.kube.create(podOf(c.ns, pod, `${dd} && sync && echo ok > /dev/termination-log`, { claim: 'data-cbt', block: true }));
        const msg = await podResult(c.kube, c.ns, pod, { check: c.check, timeoutMs: 180_000 });
        if (msg !== 'ok') throw new Error(`${pod} said ${msg}`);
        await deletePod(c.kube, c.ns, pod);
      };
      const snapshot = async (name: string): Promise<string> => {
        await c.kube.create({
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata: { name, namespace: c.ns },
          spec: { volumeSnapshotClassName: SNAP_CLASS, source: { persistentVolumeClaimName: 'data-cbt' } },
        });
        const snap = await waitFor(`VolumeSnapshot ${name} readyToUse`, async () => {
          const s = await c.kube.get<Snap>(snapPath(c, name));
          return s.status?.readyToUse ? s : undefined;
        });
        const content = await c.kube.get<Content>(`/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${snap.status?.boundVolumeSnapshotContentName}`);
        return content.status?.snapshotHandle ?? '';
      };
      let baseId = '';
      let client: BackupClient | undefined;
      try {
        await step('a Pod writes 3 blocks of a raw volume → VolumeSnapshot cbt-a; another writes 1 of them again and 2 more → cbt-b', async () => {
          if (!c.capabilities.includes('CREATE_DELETE_SNAPSHOT')) throw new Error('the controller does not advertise CREATE_DELETE_SNAPSHOT');
          const claim = pvc(c, 'data-cbt', SC.wffc, '1Gi');
          (claim.spec as Record<string, unknown>).volumeMode = 'Block';
          await c.kube.create(claim);
          await write('cbt-writer-1', first);
          baseId = await snapshot('cbt-a');
          await write('cbt-writer-2', second);
          await snapshot('cbt-b');
        });
        await step(
          "a backup client (a ServiceAccount token for the service's audience, TLS with its CA) reads cbt-a's allocated blocks: exactly the 3 written",
          async () => {
            assertRunning(c.procs['csi-snapshot-metadata']!);
            await c.kube.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'backup-client', namespace: c.ns } });
            for (const role of parseManifests(await readFile(c.cbt.clientRole, 'utf8'), c.cbt.clientRole) as KubeObject[]) {
              await c.kube.apply(role);
              await c.kube.apply({
                apiVersion: 'rbac.authorization.k8s.io/v1',
                kind: 'ClusterRoleBinding',
                metadata: { name: `plinth-e2e-${role.metadata.name}` },
                subjects: [{ kind: 'ServiceAccount', name: 'backup-client', namespace: c.ns }],
                roleRef: { kind: 'ClusterRole', name: role.metadata.name, apiGroup: 'rbac.authorization.k8s.io' },
              });
            }
            client = await backupClient({ kube: c.kube, proto: c.cbt.proto, driver: c.driver, namespace: c.ns, serviceAccount: 'backup-client' });
            const a = await client.allocated('cbt-a');
            log(`changed-blocks: cbt-a allocated ${shown(a)} of ${a.capacity} bytes`);
            if (a.capacity !== 1024 * MiB) throw new Error(`cbt-a's capacity is ${a.capacity} bytes, want 1 GiB`);
            if (shown(a) !== blocksOf(first)) throw new Error(`cbt-a's allocated blocks are [${shown(a)}], want [${blocksOf(first)}]`);
          },
        );
        await step('GetMetadataDelta from cbt-a (its snapshot id) to cbt-b names exactly the 3 blocks the second Pod changed', async () => {
          const d = await client!.delta(baseId, 'cbt-b');
          log(`changed-blocks: ${baseId} → cbt-b changed ${shown(d)}`);
          if (shown(d) !== blocksOf(second)) throw new Error(`the delta is [${shown(d)}], want [${blocksOf(second)}]`);
        });
        // A refused client: the sidecar answers `code` and no block is read.
        const refused = async (code: status, o: { serviceAccount: string; audience?: string }): Promise<void> => {
          const other = await backupClient({ kube: c.kube, proto: c.cbt.proto, driver: c.driver, namespace: c.ns, ...o });
          try {
            const got = await other.allocated('cbt-a').then(
              (m) => `${m.blocks.length} blocks`,
              (e: { code?: number; details?: string }) => e,
            );
            if (typeof got === 'string' || got.code !== code)
              throw new Error(`want ${status[code]}, got ${typeof got === 'string' ? got : `${got.code} ${got.details}`}`);
          } finally {
            other.close();
          }
        };
        await step('a token for another audience is refused (UNAUTHENTICATED) and nothing is read', () =>
          refused(status.UNAUTHENTICATED, { serviceAccount: 'backup-client', audience: 'not-this-service' }),
        );
        await step('a ServiceAccount without the client role is refused (PERMISSION_DENIED) and nothing is read', async () => {
          await c.kube.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'not-a-backup-client', namespace: c.ns } });
          await refused(status.PERMISSION_DENIED, { serviceAccount: 'not-a-backup-client' });
        });
      } finally {
        client?.close();
        for (const n of ['cbt-a', 'cbt-b']) await c.kube.delete(snapPath(c, n)).catch(() => undefined);
      }
    },

    // xfs: growing a mounted ext4 takes CAP_SYS_RESOURCE (EXT4_IOC_RESIZE_FS), which root on this machine lacks; the
    // node agent refuses that with a clear error (its integration tests show it). xfs_growfs needs CAP_SYS_ADMIN only.
    expand: () =>
      step('online expansion (xfs): PVC 1Gi → 2Gi while the Pod runs; the filesystem the Pod sees grows', async () => {
        await c.kube.create(pvc(c, 'data-xfs', SC.xfs, '1Gi'));
        // -P: one line per filesystem (busybox df wraps a long device name onto its own line otherwise).
        const size = `df -Pk ${DATA} | awk 'NR==2{print $2}'`;
        await c.kube.create(
          podOf(
            c.ns,
            'expander',
            `s0=$(${size}); [ -n "$s0" ] || { echo "no size in: $(df -Pk ${DATA})" > /dev/termination-log; exit 1; }; while :; do s=$(${size}); [ "$s" -gt "$s0" ] && break; sleep 1; done; echo "$s0 $s" > /dev/termination-log`,
            {
              claim: 'data-xfs',
            },
          ),
        );
        await podRunning(c.kube, c.ns, 'expander', { check: c.check, timeoutMs: 180_000 });
        const pv = await boundPv(c, 'data-xfs');
        await new Promise((r) => setTimeout(r, 2000));
        await c.kube.merge(pvcPath(c, 'data-xfs'), { spec: { resources: { requests: { storage: '2Gi' } } } });
        const msg = await podResult(c.kube, c.ns, 'expander', { check: c.check, timeoutMs: 240_000 });
        const [before = 0, after = 0] = msg.split(' ').map(Number);
        if (!(after > before * 1.8)) throw new Error(`the Pod saw ${before} KiB → ${after} KiB; want about double`);
        log(`expand: the Pod saw its filesystem grow ${before} → ${after} KiB`);
        await expectVolume(c, volumeIdOf(pv), { sizeGiB: 2 });
        await deletePod(c.kube, c.ns, 'expander');
      }),

    restore: async () => {
      if (!state.sum || !state.pvWffc) throw new Error('needs the wffc flow');
      const sum = state.sum;
      await step('VolumeSnapshot of the written PVC → restore into a new PVC → a Pod reads the original checksum', async () => {
        await c.kube.create({
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata: { name: 'snap-wffc', namespace: c.ns },
          spec: { volumeSnapshotClassName: SNAP_CLASS, source: { persistentVolumeClaimName: 'data-wffc' } },
        });
        await waitFor(
          'VolumeSnapshot snap-wffc readyToUse',
          async () => ((await c.kube.get<Snap>(snapPath(c, 'snap-wffc'))).status?.readyToUse ? true : undefined),
          { timeoutMs: 120_000, describe: async () => `${JSON.stringify((await c.kube.find<Snap>(snapPath(c, 'snap-wffc')))?.status)}` },
        );
        const size = (await c.kube.get<Pvc>(pvcPath(c, 'data-wffc'))).status?.capacity?.storage ?? '2Gi';
        await c.kube.create(
          pvc(c, 'data-restore-wffc', SC.wffc, size, { dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap-wffc' } }),
        );
        await c.kube.create(podOf(c.ns, 'restore-reader', `sha256sum ${DATA}/file | cut -d' ' -f1 > /dev/termination-log`, { claim: 'data-restore-wffc' }));
        const got = await podResult(c.kube, c.ns, 'restore-reader', { check: c.check, timeoutMs: 180_000 });
        if (got !== sum) throw new Error(`the restored volume's file has ${got}, the original ${sum}`);
        await deletePod(c.kube, c.ns, 'restore-reader');
        await c.kube.delete(snapPath(c, 'snap-wffc'));
      });
      await step('clone: a PVC with the written PVC as its dataSource → a Pod reads the original checksum', async () => {
        if (!c.capabilities.includes('CLONE_VOLUME')) throw new Error('the controller does not advertise CLONE_VOLUME');
        const size = (await c.kube.get<Pvc>(pvcPath(c, 'data-wffc'))).status?.capacity?.storage ?? '2Gi';
        await c.kube.create(pvc(c, 'data-clone', SC.wffc, size, { dataSource: { kind: 'PersistentVolumeClaim', name: 'data-wffc' } }));
        await c.kube.create(podOf(c.ns, 'clone-reader', `sha256sum ${DATA}/file | cut -d' ' -f1 > /dev/termination-log`, { claim: 'data-clone' }));
        const got = await podResult(c.kube, c.ns, 'clone-reader', { check: c.check, timeoutMs: 180_000 });
        if (got !== sum) throw new Error(`the clone's file has ${got}, the original ${sum}`);
        await deletePod(c.kube, c.ns, 'clone-reader');
      });
    },

    'snapshot-moment': () =>
      step('a Pod keeps writing while a VolumeSnapshot is taken: the restore has what was written before CreateSnapshot returned, nothing after', async () => {
        if (!state.pvWffc) throw new Error('needs the wffc flow');
        const uptime = `cut -d' ' -f1 /proc/uptime`;
        await c.kube.create(
          podOf(c.ns, 'moment-writer', `rm -f ${DATA}/moment; while :; do ${uptime} >> ${DATA}/moment; sync; sleep 0.1; done`, { claim: 'data-wffc' }),
        );
        await podRunning(c.kube, c.ns, 'moment-writer', { check: c.check, timeoutMs: 180_000 });
        await new Promise((r) => setTimeout(r, 3000));
        const calls = c.snapshotCalls.length;
        await c.kube.create({
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata: { name: 'snap-moment', namespace: c.ns },
          spec: { volumeSnapshotClassName: SNAP_CLASS, source: { persistentVolumeClaimName: 'data-wffc' } },
        });
        await waitFor(
          'VolumeSnapshot snap-moment readyToUse',
          async () => ((await c.kube.get<Snap>(snapPath(c, 'snap-moment'))).status?.readyToUse ? true : undefined),
          {
            timeoutMs: 120_000,
          },
        );
        const call = c.snapshotCalls.slice(calls).find((x) => x.snapshotId);
        if (!call) throw new Error('no CreateSnapshot went through the emulated host');
        await new Promise((r) => setTimeout(r, 2000));
        await deletePod(c.kube, c.ns, 'moment-writer');
        const size = (await c.kube.get<Pvc>(pvcPath(c, 'data-wffc'))).status?.capacity?.storage ?? '2Gi';
        await c.kube.create(
          pvc(c, 'data-moment', SC.wffc, size, { dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap-moment' } }),
        );
        const last = `tail -n 1 ${DATA}/moment`;
        await c.kube.create(podOf(c.ns, 'moment-reader', `echo "$(${last})" > /dev/termination-log`, { claim: 'data-moment' }));
        const inRestore = Number(await podResult(c.kube, c.ns, 'moment-reader', { check: c.check, timeoutMs: 180_000 }));
        await deletePod(c.kube, c.ns, 'moment-reader');
        await c.kube.create(podOf(c.ns, 'moment-source', `echo "$(${last})" > /dev/termination-log`, { claim: 'data-wffc' }));
        const inSource = Number(await podResult(c.kube, c.ns, 'moment-source', { check: c.check }));
        await deletePod(c.kube, c.ns, 'moment-source');
        const ret = call.returnedUptime;
        log(`snapshot-moment: CreateSnapshot returned at uptime ${ret}; restore's last write ${inRestore}, source's last ${inSource}`);
        if (!(inRestore <= ret)) throw new Error(`the restore has a write from uptime ${inRestore}, after CreateSnapshot returned at ${ret}`);
        if (!(inRestore > ret - 3))
          throw new Error(`the restore's last write is from ${inRestore}, long before CreateSnapshot (${ret}): not the moment's bytes`);
        if (!(inSource > ret + 1)) throw new Error(`the source's last write ${inSource} is not after CreateSnapshot (${ret}): the Pod did not keep writing`);
        await c.kube.delete(snapPath(c, 'snap-moment'));
      }),

    'attach-limit': async () => {
      const claims = ['limit-1', 'limit-2', 'limit-3'];
      await step(
        `attach limit ${ATTACH_LIMIT}: ${ATTACH_LIMIT} Pods run, the next stays Pending with the scheduler's volume-count reason, no attach tried`,
        async () => {
          for (const cl of claims) await c.kube.create(pvc(c, cl, SC.wffc, '1Gi'));
          for (const cl of claims.slice(0, ATTACH_LIMIT)) await c.kube.create(podOf(c.ns, `pod-${cl}`, 'sleep 3600', { claim: cl }));
          for (const cl of claims.slice(0, ATTACH_LIMIT)) await podRunning(c.kube, c.ns, `pod-${cl}`, { check: c.check, timeoutMs: 180_000 });
          await c.kube.create(podOf(c.ns, 'pod-limit-3', 'sleep 3600', { claim: 'limit-3' }));
          const why = await unschedulable(c.kube, c.ns, 'pod-limit-3');
          if (!/max volume count/i.test(why)) throw new Error(`Pod pod-limit-3 is unschedulable for another reason: ${why}`);
          await new Promise((r) => setTimeout(r, 3000));
          const p = await c.kube.get<Pvc>(pvcPath(c, 'limit-3'));
          if (p.spec.volumeName) throw new Error(`PVC limit-3 was provisioned (${p.spec.volumeName}) though no node could take it`);
          const vas = await c.kube.get<{ items: { spec: { source: { persistentVolumeName?: string } } }[] }>('/apis/storage.k8s.io/v1/volumeattachments');
          log(`attach-limit: scheduler says "${why}"; ${vas.items.length} VolumeAttachment(s), none for limit-3`);
        },
      );
      await step('a Pod of the limit deleted → the waiting Pod is scheduled and runs', async () => {
        await deletePod(c.kube, c.ns, 'pod-limit-1');
        await podRunning(c.kube, c.ns, 'pod-limit-3', { check: c.check, timeoutMs: 180_000 });
        await deletePod(c.kube, c.ns, 'pod-limit-2');
        await deletePod(c.kube, c.ns, 'pod-limit-3');
      });
    },

    'kill-agent': async () => {
      if (!state.pvWffc) throw new Error('needs the wffc flow');
      let killedAt = 0;
      await step('kill -9 of the node agent while a Pod writes: the Pod keeps writing through its mount', async () => {
        await c.kube.create(podOf(c.ns, 'ticker', `while :; do date +%s >> ${DATA}/ticks; sync; sleep 1; done`, { claim: 'data-wffc' }));
        await podRunning(c.kube, c.ns, 'ticker', { check: c.check, timeoutMs: 180_000 });
        await new Promise((r) => setTimeout(r, 2000));
        killedAt = Math.floor(Date.now() / 1000);
        await c.agent.kill();
        await new Promise((r) => setTimeout(r, 5000));
        const pod = await c.kube.get<PodObj>(podPath(c.ns, 'ticker'));
        if (pod.status?.phase !== 'Running') throw new Error(`the Pod is ${pod.status?.phase} after the agent died`);
      });
      await step('the node agent comes back; the Pod is unmounted by it and a new Pod mounts and sees the writes made meanwhile', async () => {
        await c.agent.restart();
        await deletePod(c.kube, c.ns, 'ticker');
        await c.kube.create(podOf(c.ns, 'ticker-reader', `tail -n 1 ${DATA}/ticks > /dev/termination-log`, { claim: 'data-wffc' }));
        const last = Number(await podResult(c.kube, c.ns, 'ticker-reader', { check: c.check }));
        if (!(last >= killedAt + 3)) throw new Error(`the last tick is ${last}; the agent was killed at ${killedAt}: the mount did not keep working`);
        log(`kill-agent: ticks went on ${last - killedAt} s past the kill`);
        await deletePod(c.kube, c.ns, 'ticker-reader');
      });
    },

    'node-local': async () => {
      const device = '/dev/xvdbz';
      const pvName = `node-local-${c.clusterId}`.slice(0, 63);
      let volumeId = '';
      await step(
        `node-local: a volume pre-attached at ${device} (as a launch template does) → a static PV local-ebs://dev/xvdbz → a Pod writes, another reads; no AttachVolume`,
        async () => {
          // The node's own volume, made and attached outside the driver (tagged with the run's cluster for clean-up).
          const made = await c.ec2.send(
            new CreateVolumeCommand({
              AvailabilityZone: c.stack.zone,
              Size: 1,
              VolumeType: 'gp3',
              TagSpecifications: [
                {
                  ResourceType: 'volume',
                  Tags: [
                    { Key: TAG_CLUSTER, Value: c.clusterId },
                    { Key: 'suite', Value: 'k8s-e2e-node-local' },
                  ],
                },
              ],
            }),
          );
          volumeId = made.VolumeId ?? '';
          await waitFor(`EC2 volume ${volumeId} available`, async () => ((await volumeById(c.ec2, volumeId))?.State === 'available' ? true : undefined), {
            timeoutMs: 30_000,
          });
          await c.ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: c.stack.nodeId, Device: device }));
          await waitFor(`EC2 volume ${volumeId} in-use`, async () => ((await volumeById(c.ec2, volumeId))?.State === 'in-use' ? true : undefined), {
            timeoutMs: 30_000,
          });
          await c.kube.create({
            apiVersion: 'v1',
            kind: 'PersistentVolume',
            metadata: { name: pvName },
            spec: {
              capacity: { storage: '1Gi' },
              volumeMode: 'Filesystem',
              accessModes: ['ReadWriteMany'],
              persistentVolumeReclaimPolicy: 'Retain',
              storageClassName: '',
              csi: { driver: c.driver, volumeHandle: `local-ebs://${device.slice(1)}`, fsType: 'xfs' },
            },
          });
          const claim = pvc(c, 'data-node-local', '', '1Gi');
          Object.assign(claim.spec as Record<string, unknown>, { volumeName: pvName, accessModes: ['ReadWriteMany'] });
          await c.kube.create(claim);
          await c.kube.create(
            podOf(c.ns, 'local-writer', `echo node-local > ${DATA}/hello && sync && sha256sum ${DATA}/hello | cut -d' ' -f1 > /dev/termination-log`, {
              claim: 'data-node-local',
            }),
          );
          const sum = await podResult(c.kube, c.ns, 'local-writer', { check: c.check, timeoutMs: 180_000 });
          await c.kube.create(podOf(c.ns, 'local-reader', `sha256sum ${DATA}/hello | cut -d' ' -f1 > /dev/termination-log`, { claim: 'data-node-local' }));
          const read = await podResult(c.kube, c.ns, 'local-reader', { check: c.check });
          if (!/^[0-9a-f]{64}$/.test(sum) || read !== sum) throw new Error(`the writer reported ${sum}, the reader ${read}`);
          const vas = await c.kube.get<{
            items: (Va & { spec: { source: { persistentVolumeName?: string } }; status?: { attachmentMetadata?: Record<string, string> } })[];
          }>('/apis/storage.k8s.io/v1/volumeattachments');
          const va = vas.items.find((x) => x.spec.source.persistentVolumeName === pvName);
          if (va?.status?.attachmentMetadata?.volumeID !== volumeId)
            throw new Error(`the VolumeAttachment of ${pvName} names ${JSON.stringify(va?.status?.attachmentMetadata)}, want volumeID ${volumeId}`);
          const v = await volumeById(c.ec2, volumeId);
          const att = v?.Attachments?.find((a) => a.InstanceId === c.stack.nodeId);
          if (att?.Device !== device) throw new Error(`EC2 says ${volumeId} is at ${att?.Device} on ${att?.InstanceId}, want ${device}`);
          await deletePod(c.kube, c.ns, 'local-writer');
          await deletePod(c.kube, c.ns, 'local-reader');
        },
      );
      await step(
        'node-local: Pods deleted → VolumeAttachment gone, the EC2 volume still attached at the same device (never detached by the driver)',
        async () => {
          await waitFor(
            `no VolumeAttachment of ${pvName}`,
            async () => {
              const vas = await c.kube.get<{ items: { spec: { source: { persistentVolumeName?: string } } }[] }>('/apis/storage.k8s.io/v1/volumeattachments');
              return vas.items.some((x) => x.spec.source.persistentVolumeName === pvName) ? undefined : true;
            },
            { timeoutMs: 90_000 },
          );
          const v = await volumeById(c.ec2, volumeId);
          if (v?.State !== 'in-use' || v.Attachments?.[0]?.Device !== device)
            throw new Error(`EC2 volume ${volumeId} is ${v?.State} (${JSON.stringify(v?.Attachments)})`);
          await c.kube.delete(pvcPath(c, 'data-node-local'));
          await c.kube.delete(pvPath(pvName));
          await c.ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: c.stack.nodeId }));
          await waitFor(`EC2 volume ${volumeId} available`, async () => ((await volumeById(c.ec2, volumeId))?.State === 'available' ? true : undefined), {
            timeoutMs: 30_000,
          });
          await c.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
        },
      );
    },

    attach: async () => {
      const pv = needPv1();
      const vol = volumeIdOf(pv);
      const name = `va-${pv.metadata.name}`.slice(0, 63);
      const path = `/apis/storage.k8s.io/v1/volumeattachments/${name}`;
      const describe = async (): Promise<string> => JSON.stringify((await c.kube.find<Va>(path))?.status ?? 'gone');
      await step('VolumeAttachment → status.attached true', async () => {
        c.check();
        await c.kube.create({
          apiVersion: 'storage.k8s.io/v1',
          kind: 'VolumeAttachment',
          metadata: { name },
          spec: { attacher: c.driver, nodeName: c.nodeName, source: { persistentVolumeName: pv.metadata.name } },
        });
        await waitFor(`VolumeAttachment ${name} attached`, async () => ((await c.kube.get<Va>(path)).status?.attached ? true : undefined), {
          timeoutMs: 90_000,
          describe,
        });
        await expectVolume(c, vol, { state: 'in-use' });
      });
      await step('VolumeAttachment deleted → detached and gone', async () => {
        await c.kube.delete(path);
        await waitFor(`VolumeAttachment ${name} gone`, async () => ((await c.kube.find(path)) ? undefined : true), { timeoutMs: 90_000, describe });
        await waitFor(`EC2 volume ${vol} available`, async () => ((await volumeById(c.ec2, vol))?.State === 'available' ? true : undefined), {
          timeoutMs: 30_000,
        });
      });
    },

    resize: () =>
      step('PVC 1Gi → 2Gi: PV capacity grows', async () => {
        const pv = needPv1();
        await c.kube.merge(pvcPath(c, 'data-immediate'), { spec: { resources: { requests: { storage: '2Gi' } } } });
        await waitFor(
          `PV ${pv.metadata.name} capacity 2Gi`,
          async () => ((await c.kube.get<Pv>(pvPath(pv.metadata.name))).spec.capacity.storage === '2Gi' ? true : undefined),
          { timeoutMs: 90_000, describe: () => eventsOf(c, 'data-immediate') },
        );
        await expectVolume(c, volumeIdOf(pv), { sizeGiB: 2 });
      }),

    snapshot: async () => {
      const pv = needPv1();
      let snapshotId = '';
      await step('VolumeSnapshot → readyToUse', async () => {
        if (!c.capabilities.includes('CREATE_DELETE_SNAPSHOT'))
          throw new Error('the controller does not advertise CREATE_DELETE_SNAPSHOT (csi-snapshotter exits at start against it)');
        assertRunning(c.procs['csi-snapshotter']!);
        await c.kube.create({
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata: { name: 'snap-1', namespace: c.ns },
          spec: { volumeSnapshotClassName: SNAP_CLASS, source: { persistentVolumeClaimName: 'data-immediate' } },
        });
        const snap = await waitFor(
          'VolumeSnapshot snap-1 readyToUse',
          async () => {
            c.check();
            assertRunning(c.procs['csi-snapshotter']!);
            const s = await c.kube.get<Snap>(snapPath(c, 'snap-1'));
            return s.status?.readyToUse ? s : undefined;
          },
          {
            timeoutMs: 120_000,
            describe: async () => `${JSON.stringify((await c.kube.find<Snap>(snapPath(c, 'snap-1')))?.status)}\n${await eventsOf(c, 'snap-1')}`,
          },
        );
        const content = await c.kube.get<Content>(`/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${snap.status?.boundVolumeSnapshotContentName}`);
        snapshotId = content.status?.snapshotHandle ?? '';
        const res = await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
        const s = res.Snapshots?.[0];
        if (s?.VolumeId !== volumeIdOf(pv)) throw new Error(`EC2 snapshot ${snapshotId} is of ${s?.VolumeId}, want ${volumeIdOf(pv)}`);
      });
      await step('restore: PVC from the snapshot → PV Bound', async () => {
        await c.kube.create(
          pvc(c, 'data-restored', SC.immediate, '2Gi', { dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap-1' } }),
        );
        const restored = await boundPv(c, 'data-restored', 120_000);
        await expectVolume(c, volumeIdOf(restored), { snapshotId, sizeGiB: 2 });
      });
      await step('VolumeSnapshot deleted → content and EC2 snapshot gone', async () => {
        const snap = await c.kube.get<Snap>(snapPath(c, 'snap-1'));
        const contentName = snap.status?.boundVolumeSnapshotContentName ?? '';
        await c.kube.delete(snapPath(c, 'snap-1'));
        await waitFor(
          `VolumeSnapshotContent ${contentName} gone`,
          async () => ((await c.kube.find(`/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${contentName}`)) ? undefined : true),
          { timeoutMs: 90_000 },
        );
        await waitFor(
          `EC2 snapshot ${snapshotId} gone`,
          async () => {
            const res = await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })).catch((e: { name?: string }) => {
              if (e.name === 'InvalidSnapshot.NotFound') return { Snapshots: [] };
              throw e;
            });
            return (res.Snapshots ?? []).length === 0 ? true : undefined;
          },
          { timeoutMs: 30_000 },
        );
      });
    },

    modify: async () => {
      if (!c.fastVac) throw new Error('infra/kubernetes/examples has no VolumeAttributesClass');
      const fast = c.fastVac;
      let vol = '';
      await step(`PVC with VolumeAttributesClass ${BASE_VAC} → PV Bound, gp3 3000 IOPS / 125 MiB/s`, async () => {
        await c.kube.apply({
          apiVersion: 'storage.k8s.io/v1',
          kind: 'VolumeAttributesClass',
          metadata: { name: BASE_VAC },
          driverName: c.driver,
          parameters: { type: 'gp3', iops: '3000', throughput: '125' },
        });
        const claim = pvc(c, 'data-vac', SC.immediate, '20Gi');
        (claim.spec as Record<string, unknown>).volumeAttributesClassName = BASE_VAC;
        await c.kube.create(claim);
        const pv = await boundPv(c, 'data-vac');
        vol = volumeIdOf(pv);
        const v = await volumeById(c.ec2, vol);
        if (v?.Iops !== 3000 || v.Throughput !== 125) throw new Error(`EC2 volume ${vol} has ${v?.Iops} IOPS / ${v?.Throughput} MiB/s, want 3000 / 125`);
      });
      if (!vol) return;
      const want = { iops: Number(fast.parameters.iops), throughput: Number(fast.parameters.throughput) };
      await step(`PVC → VolumeAttributesClass ${fast.name} (example): EC2 volume ${want.iops} IOPS / ${want.throughput} MiB/s`, async () => {
        await c.kube.merge(pvcPath(c, 'data-vac'), { spec: { volumeAttributesClassName: fast.name } });
        await waitFor(
          `PVC data-vac currentVolumeAttributesClassName ${fast.name} and the EC2 volume modified`,
          async () => {
            c.check();
            const p = await c.kube.get<Pvc & { status?: { currentVolumeAttributesClassName?: string } }>(pvcPath(c, 'data-vac'));
            if (p.status?.currentVolumeAttributesClassName !== fast.name) return undefined;
            const v = await volumeById(c.ec2, vol);
            return v?.Iops === want.iops && v.Throughput === want.throughput ? true : undefined;
          },
          {
            timeoutMs: 120_000,
            describe: async () => `${JSON.stringify((await c.kube.find<Pvc>(pvcPath(c, 'data-vac')))?.status)}\n${await eventsOf(c, 'data-vac')}`,
          },
        );
      });
    },

    delete: async () => {
      for (const claim of [
        'data-immediate',
        'data-wffc',
        'data-restored',
        'data-vac',
        'data-block',
        'data-restore-wffc',
        'data-clone',
        'data-moment',
        'data-xfs',
        'limit-1',
        'limit-2',
        'limit-3',
      ]) {
        const p = await c.kube.find<Pvc>(pvcPath(c, claim));
        if (!p?.spec.volumeName) continue; // an earlier flow failed before making it
        const pv = await c.kube.get<Pv>(pvPath(p.spec.volumeName));
        const vol = volumeIdOf(pv);
        await step(`delete PVC ${claim} (reclaimPolicy Delete) → PV and EC2 volume gone`, async () => {
          await c.kube.delete(pvcPath(c, claim));
          await waitFor(`PV ${pv.metadata.name} gone`, async () => ((await c.kube.find(pvPath(pv.metadata.name))) ? undefined : true), {
            timeoutMs: 90_000,
            describe: async () => JSON.stringify((await c.kube.find<Pv>(pvPath(pv.metadata.name)))?.status),
          });
          await waitFor(`EC2 volume ${vol} gone`, async () => ((await volumeById(c.ec2, vol)) ? undefined : true), { timeoutMs: 30_000 });
        });
      }
    },

    teardown: () =>
      step('every Pod deleted → NodeUnpublish/NodeUnstage → detach: no VolumeAttachment left, no EC2 volume of the run left in-use', async () => {
        await waitFor(
          'no VolumeAttachment of the driver',
          async () => {
            const vas = await c.kube.get<{ items: { spec: { attacher: string } }[] }>('/apis/storage.k8s.io/v1/volumeattachments');
            return vas.items.some((v) => v.spec.attacher === c.driver) ? undefined : true;
          },
          { timeoutMs: 120_000 },
        );
        const staged = await mountsUnder(join(c.kubeletRoot, 'plugins', 'kubernetes.io'));
        const published = await mountsUnder(join(c.kubeletRoot, 'pods'));
        if (staged.length || published.length) throw new Error(`kubelet dir still has mounts: ${[...staged, ...published].join(', ')}`);
      }),

    retain: async () => {
      let pv: Pv | undefined;
      await step('PVC (reclaimPolicy Retain) → PV Bound', async () => {
        await c.kube.create(pvc(c, 'data-retain', SC.retain, '1Gi'));
        pv = await boundPv(c, 'data-retain');
        if (pv.spec.persistentVolumeReclaimPolicy !== 'Retain') throw new Error(`PV reclaim policy ${pv.spec.persistentVolumeReclaimPolicy}`);
      });
      if (!pv) return;
      const name = pv.metadata.name;
      const vol = volumeIdOf(pv);
      await step('delete PVC (Retain) → PV Released, EC2 volume kept', async () => {
        await c.kube.delete(pvcPath(c, 'data-retain'));
        await waitFor(`PV ${name} Released`, async () => ((await c.kube.get<Pv>(pvPath(name))).status?.phase === 'Released' ? true : undefined), {
          timeoutMs: 60_000,
        });
        // Give a wrongly deleting provisioner time to act before checking the volume is still there.
        await new Promise((r) => setTimeout(r, 3000));
        await expectVolume(c, vol, { state: 'available' });
      });
      // Clean-up, as an administrator would: the PV object, then the volume (the run's clean-up would also get it).
      await c.kube.delete(pvPath(name));
      await c.ec2.send(new DeleteVolumeCommand({ VolumeId: vol })).catch(() => undefined);
    },
  };
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  const t0 = Date.now();
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const only = args.filter((a) => !a.startsWith('--'));
  const stack = requireStack();

  log('checking the Kubernetes binaries (first run builds them, see test/k8s/build.ts)…');
  const build: BuildReport = await ensureK8sBinaries({ log: (m) => log(`build: ${m}`) });
  await ensureNodePackages((m) => log(m));
  const helm = await ensureHelm((m) => log(m));

  await rm(LOG_DIR, { recursive: true, force: true });
  await mkdir(LOG_DIR, { recursive: true });
  const runDir = await mkdtemp(join(tmpdir(), 'plinth-k8s-e2e-'));
  const clusterId = `k8s-e2e-${Date.now().toString(36)}`;
  const ec2 = ec2Of(stack);
  const results: StepResult[] = [];
  let podsNs = '';
  let hostLeft: string[] | undefined;
  const notes: string[] = [];
  let cp: ControlPlane | undefined;
  let controller: ControllerProcess | undefined;
  let node: NodeAgentProcess | undefined;
  let host: FakeHost | undefined;
  let nitro: NitroHost | undefined;
  let ec2Proxy: Ec2Proxy | undefined;
  let ebsDirect: EbsDirect | undefined;
  let realNode: RealNode | undefined;
  let livenessUrl = '';
  /** Output of node agents that were killed (kill-agent flow), kept for the log. */
  const agentOutput: string[] = [];
  let redisUrl: string | undefined;
  const sidecars: Proc[] = [];
  let code = 1;
  let interrupted = false;
  /** --keep: the flows ran, and Ctrl-C is how this run ends. */
  let keptUp = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: tearing down`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // The control plane.
    let t = Date.now();
    cp = await startControlPlane({ dir: runDir, logDir: LOG_DIR, bin: (n) => binPath(n), log });
    const kube = cp.kube;
    log(`control plane ready in ${secs(t).toFixed(1)} s`);

    // Snapshot CRDs from the external-snapshotter client module, and the SnapshotMetadataService CRD of
    // external-snapshot-metadata's release (its client module).
    t = Date.now();
    const cbt = await snapshotMetadataFiles();
    for (const file of [...(await snapshotCrdFiles()), cbt.crd]) {
      for (const crd of parseManifests(await readFile(file, 'utf8'), file) as KubeObject[]) {
        await kube.apply(crd);
        await waitFor(`CRD ${crd.metadata.name} Established`, async () => {
          const got = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
            `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
          );
          return got.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? true : undefined;
        });
      }
    }
    await waitFor('snapshot.storage.k8s.io/v1 served', async () => ((await kube.serves('snapshot.storage.k8s.io/v1', 'VolumeSnapshot')) ? true : undefined));
    log(`snapshot CRDs installed in ${secs(t).toFixed(1)} s`);

    // The chart: render, dry-run everything, apply the storage objects.
    t = Date.now();
    const rendered = parseManifests(
      await renderChart(helm, e2eValues(clusterId, stack, (await readFile(cp.pki.caCert)).toString('base64'))),
      'helm template (e2e values)',
    ) as KubeObject[];
    const base = parseManifests(await readFile(BASE_FILE, 'utf8'), BASE_FILE) as KubeObject[];
    const examplesDir = join(ROOT, 'infra', 'kubernetes', 'examples');
    const examples = [join(examplesDir, 'volumesnapshotclass.yaml'), join(examplesDir, 'volumeattributesclass.yaml')];
    const exampleObjs = (await Promise.all(examples.map(async (f) => parseManifests(await readFile(f, 'utf8'), f) as KubeObject[]))).flat();
    for (const [what, objs] of [
      ['chart (every option on)', rendered],
      ['infra/kubernetes/base/plinth.yaml', base],
      ['infra/kubernetes/examples', exampleObjs],
    ] as const) {
      const r = await dryRunAll(kube, what, objs);
      log(`dry-run ${what}: ${r.accepted}/${objs.length} objects accepted${r.skipped.length ? `; skipped ${r.skipped.join(', ')}` : ''}`);
      for (const s of r.skipped) notes.push(`dry-run ${what}: skipped ${s}`);
    }
    // The VolumeAttributesClass example (storage.k8s.io/v1, Kubernetes ≥ 1.34).
    let fastVac: Ctx['fastVac'];
    for (const vac of exampleObjs.filter((o) => o.kind === 'VolumeAttributesClass' && o.apiVersion === 'storage.k8s.io/v1')) {
      await kube.apply(vac);
      fastVac = { name: vac.metadata.name, parameters: (vac.parameters ?? {}) as Record<string, string> };
    }
    results.push({
      flow: 'chart',
      step: `helm template + server-side dry-run of ${rendered.length + base.length + exampleObjs.length} objects`,
      secs: secs(t),
      ok: true,
    });

    const csiDriver = rendered.find((o) => o.kind === 'CSIDriver');
    if (!csiDriver) throw new Error('the chart rendered no CSIDriver');
    const driver = csiDriver.metadata.name;
    for (const o of rendered.filter((x) => ['CSIDriver', 'StorageClass', 'VolumeSnapshotClass'].includes(x.kind))) await kube.apply(o);

    // The chart's identities: its ServiceAccounts and RBAC, and a bound token per account for the processes that
    // run as it (the sidecars and the controller as the controller's account, the node agent as the node's).
    for (const o of rendered.filter((x) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(x.kind)))
      await kube.apply(o);
    const tokenKubeconfig = async (sa: KubeObject): Promise<string> => {
      const ns0 = sa.metadata.namespace ?? 'kube-system';
      const tr = await kube.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns0}/serviceaccounts/${sa.metadata.name}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 86_400 },
      });
      const file = join(runDir, `kubeconfig-${sa.metadata.name}`);
      await writeTokenKubeconfig(file, cp!.server, cp!.pki, `system:serviceaccount:${ns0}:${sa.metadata.name}`, tr.status.token);
      return file;
    };
    const accounts = rendered.filter((x) => x.kind === 'ServiceAccount');
    const daemonSet = rendered.find((o) => o.kind === 'DaemonSet');
    type PodTemplate = { template: { spec: { serviceAccountName?: string; containers: Container[] } } };
    const deployment = rendered.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-controller'));
    const saOf = (w: KubeObject | undefined): KubeObject => {
      const name = (w?.spec as PodTemplate | undefined)?.template.spec.serviceAccountName;
      const sa = accounts.find((a) => a.metadata.name === name);
      if (!sa) throw new Error(`the chart's ${w?.kind}/${w?.metadata.name} names ServiceAccount ${name}, which it does not render`);
      return sa;
    };
    const controllerKubeconfig = await tokenKubeconfig(saOf(deployment));
    const nodeKubeconfig = await tokenKubeconfig(saOf(daemonSet));
    log(`chart identities: ${accounts.map((a) => a.metadata.name).join(', ')} (bound tokens; the chart's RBAC applied)`);

    // Plinth's controller on the stack; the emulated Nitro host presents attached volumes as NVMe devices.
    host = await createFakeHost();
    nitro = await startNitro({ ec2, instanceId: stack.nodeId, host, dataDir: join(host.root, 'volumes'), pollMs: 100, log: (m) => log(`nitro: ${m}`) });
    // The controller reaches EC2 through the host's proxy, which takes a snapshot's bytes at CreateSnapshot.
    ec2Proxy = await startEc2Proxy({ target: stack.ec2Endpoint, nitro, log: (m) => log(`ec2 proxy: ${m}`) });
    redisUrl = await freshRedis(stack.redisUrl, REDIS_DB);
    // Node-local volumes as the chart turns them on (controller.enableNodeLocalVolumes).
    const controllerCtr = (deployment?.spec as PodTemplate | undefined)?.template.spec.containers.find((x) => x.name === 'controller');
    const nodeLocal = controllerCtr?.env?.find((e) => e.name === 'ENABLE_NODE_LOCAL_VOLUMES')?.value;
    if (nodeLocal !== 'true') throw new Error(`the chart with controller.enableNodeLocalVolumes renders ENABLE_NODE_LOCAL_VOLUMES=${nodeLocal}`);
    // The EBS direct APIs (changed-block tracking) answered from the host's snapshot copies.
    const nitroHost = nitro;
    ebsDirect = await startEbsDirect({ ec2, fileOf: (id) => nitroHost.backingFile(id), sync: () => nitroHost.sync(), log: (m) => log(`ebs direct: ${m}`) });
    const controllerEnv = {
      ...testControllerEnv({ redisUrl, region: stack.region, zone: stack.zone, ec2Endpoint: ec2Proxy.url, cluster: clusterId }),
      ENABLE_NODE_LOCAL_VOLUMES: nodeLocal,
      EBS_ENDPOINT: ebsDirect.endpoint,
    };
    controller = await startController(controllerEnv, {
      endpoint: `unix://${join(runDir, 'controller.sock')}`,
    });
    const caps = (await callUnary(controller.controller, 'controllerGetCapabilities', {})).capabilities.map((x) => x.rpc?.type);
    const capNames = caps.map((x) => (x === undefined ? '?' : Rpc[x]));
    log(`controller ${controller.endpoint} advertises ${capNames.join(', ')}; cluster id ${clusterId}`);

    // The node: containerd, kube-scheduler, the kubelet (registering with the startup taint), then, as the chart's
    // node DaemonSet has it with node.builtinRegistration, the node agent registering itself with the kubelet.
    const startupTaint = `${driver}/agent-not-ready`;
    realNode = await startNode({
      dir: join(runDir, 'node'),
      logDir: LOG_DIR,
      bin: (n) => binPath(n),
      kube,
      kubeconfig: cp.kubeconfig,
      nodeName: NODE_NAME,
      kubeletRoot: host.kubeletRoot,
      labels: { 'topology.kubernetes.io/zone': stack.zone, 'node.kubernetes.io/instance-type': stack.instanceType },
      taints: [`${startupTaint}:NoExecute`],
      providerId: `aws:///${stack.zone}/${stack.nodeId}`,
      log,
    });
    const pluginDir = join(host.kubeletRoot, 'plugins', driver);
    const nodeSocket = join(pluginDir, 'csi.sock');
    await mkdir(pluginDir, { recursive: true });
    const agentEnv = {
      REDIS_URL: redisUrl,
      EC2_ENDPOINT: stack.ec2Endpoint,
      AWS_REGION: stack.region,
      NODE_ID: stack.nodeId,
      NODE_ZONE: stack.zone,
      NODE_INSTANCE_TYPE: stack.instanceType,
      IMDS_DISABLED: 'true',
      METADATA_SOURCES: 'env',
      SYSFS_ROOT: host.sysRoot,
      DEV_ROOT: host.devRoot,
      KUBELET_ROOT: host.kubeletRoot,
      KUBE_NODE_NAME: NODE_NAME,
      KUBECONFIG: nodeKubeconfig,
      MAX_VOLUMES_PER_NODE: String(ATTACH_LIMIT),
      HEARTBEAT_INTERVAL_MS: '1000',
    };
    const startupPod = 'startup-taint-waiter';
    const ns = `e2e-${clusterId}`;
    podsNs = ns;
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await waitFor('ServiceAccount default in the test namespace', async () =>
      (await kube.find(`/api/v1/namespaces/${ns}/serviceaccounts/default`)) ? true : undefined,
    );
    // Startup taint, first half: the kubelet registered the Node with it; a Pod waits.
    t = Date.now();
    const registered = await kube.get<{ spec?: { taints?: { key: string; effect: string }[] } }>(`/api/v1/nodes/${NODE_NAME}`);
    const taintOk = registered.spec?.taints?.some((x) => x.key === startupTaint && x.effect === 'NoExecute');
    await kube.create(podOf(ns, startupPod, `echo scheduled > /dev/termination-log`));
    const why = await unschedulable(kube, ns, startupPod);
    const nodeStarted = Date.now();
    results.push({
      flow: 'startup-taint',
      step: `Node registered with ${startupTaint}:NoExecute; a Pod stays Pending (${why.trim()})`,
      secs: secs(t),
      ok: Boolean(taintOk) && why.includes('untolerated taint'),
      ...(taintOk && why.includes('untolerated taint') ? {} : { error: `taints ${JSON.stringify(registered.spec?.taints)}; scheduler: ${why}` }),
    });
    const nodeContainers = (daemonSet?.spec as PodTemplate | undefined)?.template.spec.containers ?? [];
    // The chart's built-in registration env for the node-agent container, on this run's paths.
    const agentCtr = nodeContainers.find((x) => x.name === 'node-agent');
    const chartEnv = new Map((agentCtr?.env ?? []).map((e) => [e.name, e.value]));
    const kubeletRoot = host.kubeletRoot;
    const onHost = (v: string | undefined): string =>
      (v ?? '').replace(/^\/registration$/, join(kubeletRoot, 'plugins_registry')).replace(/^\/var\/lib\/kubelet/, kubeletRoot);
    if (!chartEnv.get('REGISTRATION_DIR') || !chartEnv.get('HEALTHZ_ADDRESS') || nodeContainers.length !== 1)
      throw new Error(
        `the chart's node DaemonSet with node.builtinRegistration should run the agent alone with REGISTRATION_DIR and HEALTHZ_ADDRESS; it has ${nodeContainers.map((x) => x.name).join(', ')}`,
      );
    const healthPort = await freePort();
    livenessUrl = `http://127.0.0.1:${healthPort}/healthz`;
    Object.assign(agentEnv, {
      REGISTRATION_DIR: onHost(chartEnv.get('REGISTRATION_DIR')),
      DRIVER_REG_SOCK_PATH: onHost(chartEnv.get('DRIVER_REG_SOCK_PATH')),
      HEALTHZ_ADDRESS: `127.0.0.1:${healthPort}`,
    });
    const startAgent = async (): Promise<NodeAgentProcess> => startNodeAgent(`unix://${nodeSocket}`, agentEnv);
    node = await startAgent();
    notes.push(
      "the node agent runs as a host process with the env the chart gives it (node.builtinRegistration: true): /registration is the kubelet root's plugins_registry, /var/lib/kubelet the run's kubelet root, and /healthz listens on a free loopback port instead of :9808",
    );
    const csiNode = await waitFor(
      `CSINode ${NODE_NAME} lists ${driver} (the kubelet's plugin registration)`,
      async () => {
        const cn = await kube.find<{ spec: { drivers?: { name: string; nodeID: string; topologyKeys?: string[]; allocatable?: { count?: number } }[] } }>(
          `/apis/storage.k8s.io/v1/csinodes/${NODE_NAME}`,
        );
        return cn?.spec.drivers?.find((d) => d.name === driver);
      },
      { timeoutMs: 60_000, describe: () => Promise.resolve(node?.output().split('\n').slice(-5).join('\n') ?? '') },
    );
    log(`CSINode ${NODE_NAME} (made by the kubelet): ${JSON.stringify(csiNode)}`);
    if (csiNode.nodeID !== stack.nodeId || csiNode.allocatable?.count !== ATTACH_LIMIT)
      throw new Error(
        `CSINode ${NODE_NAME}: nodeID ${csiNode.nodeID} (want ${stack.nodeId}), allocatable ${csiNode.allocatable?.count} (want ${ATTACH_LIMIT})`,
      );
    const live = await waitFor("the node agent's /healthz 200", async () => ((await fetch(livenessUrl).catch(() => undefined))?.ok ? true : undefined), {
      timeoutMs: 30_000,
    });
    log(`node agent /healthz ${livenessUrl}: ${live ? 'ok' : '?'}`);
    t = Date.now();
    try {
      await waitFor(
        `${startupTaint} removed by the node agent`,
        async () => {
          const n = await kube.get<{ spec?: { taints?: { key: string }[] } }>(`/api/v1/nodes/${NODE_NAME}`);
          return n.spec?.taints?.some((x) => x.key === startupTaint) ? undefined : true;
        },
        { timeoutMs: 60_000 },
      );
      const msg = await podResult(kube, ns, startupPod, { timeoutMs: 90_000 });
      if (msg !== 'scheduled') throw new Error(`Pod ${startupPod} said ${msg}`);
      results.push({
        flow: 'startup-taint',
        step: 'node agent registered → taint removed → the waiting Pod ran (timed from the agent start)',
        secs: secs(nodeStarted),
        ok: true,
      });
      await deletePod(kube, ns, startupPod);
    } catch (e) {
      results.push({
        flow: 'startup-taint',
        step: 'node agent registered → taint removed → the waiting Pod ran',
        secs: secs(t),
        ok: false,
        error: (e as Error).message,
      });
      throw e;
    }

    // The sidecars, with the arguments the chart gives them and the controller's ServiceAccount, and snapshot-controller.
    const containers = (deployment?.spec as PodTemplate | undefined)?.template.spec.containers ?? [];
    const socket = join(runDir, 'controller.sock');
    const sidecarsStarted = Date.now();
    const sidecarEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' };
    for (const name of ['csi-provisioner', 'csi-attacher', 'csi-resizer', 'csi-snapshotter']) {
      const ctr = containers.find((x) => x.name === name);
      if (!ctr?.args) throw new Error(`the chart's controller Deployment has no ${name} container`);
      const { args: sidecarArgs, env, changed } = asLocalProcess(ctr, socket, deployment?.metadata.namespace ?? 'kube-system');
      for (const c of changed) notes.push(`${name}: ${c}`);
      sidecars.push(
        startProc(name, binPath(name), [...sidecarArgs, `--kubeconfig=${controllerKubeconfig}`], { logDir: LOG_DIR, env: { ...sidecarEnv, ...env } }),
      );
    }
    // external-snapshot-metadata as the chart runs it, serving TLS on a free loopback port with the run CA's
    // certificate; the chart's SnapshotMetadataService gives clients that address instead of the Service's.
    const metaCtr = containers.find((x) => x.name === 'csi-snapshot-metadata');
    if (!metaCtr?.args) throw new Error("the chart's controller Deployment has no csi-snapshot-metadata container with sidecars.snapshotMetadata.enabled");
    const metaPort = await freePort();
    const local = asLocalProcess(metaCtr, socket, deployment?.metadata.namespace ?? 'kube-system');
    const { pki } = cp;
    const metaArgs = local.args.map((a) =>
      a.startsWith('--port=')
        ? `--port=${metaPort}`
        : a.startsWith('--tls-cert=')
          ? `--tls-cert=${pki.snapshotMetadataCert}`
          : a.startsWith('--tls-key=')
            ? `--tls-key=${pki.snapshotMetadataKey}`
            : a,
    );
    sidecars.push(
      startProc('csi-snapshot-metadata', binPath('csi-snapshot-metadata'), [...metaArgs, `--kubeconfig=${controllerKubeconfig}`], {
        logDir: LOG_DIR,
        env: { ...sidecarEnv, ...local.env },
      }),
    );
    const metaService = rendered.find((o) => o.kind === 'SnapshotMetadataService');
    if (!metaService) throw new Error('the chart rendered no SnapshotMetadataService with sidecars.snapshotMetadata.enabled');
    const chartAddress = (metaService.spec as { address: string }).address;
    await kube.apply({ ...metaService, spec: { ...(metaService.spec as object), address: `127.0.0.1:${metaPort}` } });
    notes.push(`csi-snapshot-metadata: --port=${metaPort}, the run CA's certificate; SnapshotMetadataService address ${chartAddress} → 127.0.0.1:${metaPort}`);
    // Not part of the chart (a cluster add-on): runs as the admin.
    sidecars.push(
      startProc('snapshot-controller', binPath('snapshot-controller'), [`--kubeconfig=${cp.kubeconfig}`, '--leader-election=false', '--v=2'], {
        logDir: LOG_DIR,
        env: sidecarEnv,
      }),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const procs = Object.fromEntries([...sidecars, ...realNode.procs].map((p) => [p.name, p]));
    const core = sidecars.filter((p) => p.name !== 'csi-snapshotter');
    const controlPlane = cp;
    const theNode = realNode;
    const check = (): void => {
      if (interrupted) throw new Fatal('interrupted');
      controlPlane.check();
      theNode.check();
      core.forEach(assertRunning);
    };
    check();
    guard = check;
    for (const p of sidecars) {
      const v = /[Vv]ersion[:=]?\s*"?(v\d+\.\d+\.\d+)/.exec(p.tail(200));
      log(`${p.name}: ${v ? `version ${v[1]}` : 'no version line yet'}`);
    }
    if (!procs['csi-snapshotter']?.running()) log(`csi-snapshotter exited at start:\n${procs['csi-snapshotter']?.tail(5)}`);

    // The flows.
    const storageCapacity = (csiDriver.spec as { storageCapacity?: boolean } | undefined)?.storageCapacity === true;
    const ctx: Ctx = {
      kube,
      ec2,
      ns,
      driver,
      nodeName: NODE_NAME,
      stack,
      clusterId,
      procs,
      capabilities: capNames,
      sidecarsStarted,
      storageCapacity,
      fastVac,
      kubeletRoot: host.kubeletRoot,
      cbt,
      snapshotCalls: ec2Proxy.snapshots,
      agent: {
        kill: async () => {
          const n = node;
          if (!n) throw new Error('no node agent');
          agentOutput.push(n.output());
          await n.kill();
        },
        restart: async () => {
          node = await startAgent();
        },
      },
      check,
    };
    let current = '';
    const step = async (label: string, fn: () => Promise<void>, since?: number): Promise<void> => {
      if (interrupted) throw new Error('interrupted');
      const ts = since ?? Date.now();
      try {
        await fn();
        results.push({ flow: current, step: label, secs: secs(ts), ok: true });
        log(`PASS ${current}: ${label} (${secs(ts).toFixed(2)} s)`);
      } catch (e) {
        results.push({ flow: current, step: label, secs: secs(ts), ok: false, error: (e as Error).message });
        log(`FAIL ${current}: ${label} (${secs(ts).toFixed(2)} s): ${(e as Error).message}`);
        // A failed step may leave its Pods running, holding attach slots the next flows count on.
        await deleteAllPods(kube, ns);
        throw e;
      }
    };
    for (const [name, run] of Object.entries(flows(ctx, step))) {
      if (only.length && !only.includes(name)) continue;
      if (interrupted) break;
      current = name;
      await run().catch(() => undefined); // recorded by step; the next flow runs
    }
    code = results.some((r) => !r.ok) || interrupted ? 1 : 0;
    if (keep && !interrupted) {
      keptUp = true;
      log(`--keep: control plane left up; export KUBECONFIG=${cp.kubeconfig}; Ctrl-C to tear down`);
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => interrupted && (clearInterval(poll), resolve()), 500);
      });
    }
  } catch (e) {
    console.error(`[k8s-e2e] ${(e as Error).stack ?? String(e)}`);
    results.push({ flow: 'setup', step: 'bring-up', secs: 0, ok: false, error: (e as Error).message });
    code = 1;
  } finally {
    const teardown = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        console.error(`[k8s-e2e] teardown: ${name}: ${(e as Error).message}`);
        code ||= 1;
      }
    };
    // Pods first, while the kubelet and the node agent can still unpublish and unstage their volumes.
    await teardown('pods', async () => {
      if (cp && realNode && podsNs) await deleteAllPods(cp.kube, podsNs);
    });
    for (const p of sidecars.reverse()) await teardown(p.name, () => p.stop());
    await teardown('node', async () => realNode?.stop());
    await teardown('node agent', async () => {
      if (!node) return;
      await node.stop();
      await writeFile(join(LOG_DIR, 'node-agent.log'), [...agentOutput, node.output()].join('\n--- restarted after kill -9 ---\n'));
    });
    await teardown('kubelet root', async () => realNode?.releaseKubeletRoot());
    await teardown('controller', async () => {
      if (!controller) return;
      await controller.stop(15_000);
      await writeFile(join(LOG_DIR, 'controller.log'), controller.output());
    });
    await teardown('control plane', async () => cp?.stop());
    await teardown('EC2 volumes', async () => {
      const left = await deleteClusterVolumes(ec2, clusterId);
      if (left.length) log(`deleted ${left.length} volume(s) the run left in EC2: ${left.join(', ')}`);
    });
    await teardown('EC2 snapshots', async () => {
      await deleteClusterSnapshots(ec2, clusterId);
    });
    await teardown('ebs direct', async () => ebsDirect?.close());
    await teardown('nitro', async () => nitro?.stop());
    await teardown('ec2 proxy', async () => ec2Proxy?.close());
    // What a run may leave on a host, checked before the fake host's own clean-up sweeps it away.
    await teardown('host left clean', async () => {
      if (!realNode) return;
      const left: string[] = [];
      for (const root of [runDir, host?.root ?? runDir]) for (const m of await mountsUnder(root)) left.push(`mount ${m}`);
      const loops = (await execText('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']).catch(() => '')).split('\n');
      for (const l of loops) if (host && l.includes(host.root)) left.push(`loop device ${l.trim()}`);
      for (const pid of await shimPids(realNode.containerdSocket)) left.push(`containerd shim pid ${pid}`);
      for (const pr of await processesOf(['kubelet', 'containerd', 'kube-scheduler'].map((n) => binPath(n)))) left.push(`process ${pr}`);
      const links = await execText('ip', ['-o', 'link', 'show']).catch(() => '');
      if (links.includes('plinth-e2e0')) left.push('network interface plinth-e2e0');
      const rules = await execText('iptables-save', []).catch(() => '');
      if (/plinth-e2e|CNI-/.test(rules)) left.push('iptables rules of the CNI');
      hostLeft = left;
      if (left.length) throw new Error(`left on the host: ${left.join('; ')}`);
    });
    await teardown('fake host', async () => host?.cleanup());
    await teardown('redis', async () => {
      if (redisUrl) await flushRedis(redisUrl);
    });
    await teardown('run dir', () => rm(runDir, { recursive: true, force: true }));
    ec2.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (hostLeft)
    results.push({
      flow: 'teardown',
      step: 'after the run: no mounts, loop devices, containerd shims, node processes, CNI interfaces or iptables rules left on the host',
      secs: 0,
      ok: hostLeft.length === 0,
      ...(hostLeft.length ? { error: hostLeft.join('; ') } : {}),
    });
  // The report.
  console.log('');
  const built = build.built.length
    ? `cold build ${build.totalSecs.toFixed(1)} s (${build.built.map((n) => `${n} ${build.secs[n]?.toFixed(1)} s`).join(', ')})`
    : `binaries cached (${binDir()})`;
  log(built);
  log('flow timings (apply → expected state):');
  for (const r of results)
    console.log(
      `  ${r.ok ? 'PASS' : 'FAIL'}  ${r.secs.toFixed(2).padStart(7)} s  ${r.flow.padEnd(10)} ${r.step}${r.error ? `\n          ${r.error.split('\n').join('\n          ')}` : ''}`,
    );
  for (const n of notes) log(`note: ${n}`);
  log(`wall time ${secs(t0).toFixed(1)} s; process logs in ${LOG_DIR}`);
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  await writeReport(passed, failed);
  console.log(`e2e-k8s: ${passed} passed, ${failed} failed`);
  return interrupted && !keptUp ? 130 : code;
}

/** Counts for scripts/run.mjs's summary (same fields as vitest's JSON report), when it asks for them. */
/** Deletes every Pod of the namespace, waiting for each to go (errors logged: this is clean-up). */
async function deleteAllPods(kube: Kube, ns: string): Promise<void> {
  const list = await kube.get<{ items: PodObj[] }>(`/api/v1/namespaces/${ns}/pods`).catch(() => ({ items: [] }));
  for (const p of list.items) await deletePod(kube, ns, p.metadata.name, 60_000).catch((e: Error) => log(`clean-up: ${e.message}`));
}

async function writeReport(passed: number, failed: number): Promise<void> {
  const file = process.env.PLINTH_TIER_REPORT;
  if (file) await writeFile(file, JSON.stringify({ numPassedTests: passed, numFailedTests: failed, numPendingTests: 0, numTodoTests: 0, testResults: [] }));
}

process.exitCode = await main();
// A stray handle must not keep a finished run alive.
setTimeout(() => process.exit(), 5000).unref();
