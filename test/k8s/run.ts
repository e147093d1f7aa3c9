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
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteVolumeCommand, DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { credentials } from '@grpc/grpc-js';
import { callUnary, ControllerServiceCapability_RPC_Type as Rpc, NodeClient } from '@plinth/csi';
import { TAG_CLUSTER } from '@plinth/cloud';
import { ensureHelm, renderChart, BASE_FILE } from '../infra/helm.js';
import { parseManifests } from '../infra/manifests.js';
import { startController, testControllerEnv, type ControllerProcess } from '../support/controller.js';
import { ec2Of, flushRedis, freshRedis, volumeById } from '../support/ec2.js';
import { createFakeHost, type FakeHost } from '../support/nvme.js';
import { requireStack, type Stack } from '../support/stack.js';
import { startNodeAgent, type NodeAgentProcess } from '../sanity/node-agent.js';
import { deleteClusterSnapshots, deleteClusterVolumes } from '../sanity/volumes.js';
import { binDir, ensureK8sBinaries, snapshotCrdFiles, type BuildReport } from './build.js';
import { startControlPlane, type ControlPlane } from './cluster.js';
import { Fatal, waitFor as pollUntil, type Kube, type KubeObject } from './kube.js';
import { assertRunning, startProc, type Proc } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LOG_DIR = join(ROOT, 'test-results', 'k8s-e2e');
/** Redis database of this tier (integration 1–11, sanity 12, api 12–14). */
const REDIS_DB = 15;
const NODE_NAME = 'plinth-e2e-node';
const SC = { immediate: 'plinth-e2e-immediate', wffc: 'plinth-e2e-wffc', retain: 'plinth-e2e-retain' };
const SNAP_CLASS = 'plinth-e2e-snapclass';
const BASE_VAC = 'plinth-e2e-gp3-base';
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

const log = (m: string): void => console.log(`[k8s-e2e] ${m}`);

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
function e2eValues(clusterId: string, stack: Stack): Record<string, unknown> {
  return {
    clusterId,
    region: stack.region,
    ec2Endpoint: stack.ec2Endpoint,
    'redis.url': 'redis://:e2e-password@plinth-redis.kube-system.svc:6379/0',
    'redis.password': 'e2e-password',
    'sidecars.snapshotter.enabled': true,
    'serviceMonitor.enabled': true,
    storageClasses: [
      { name: SC.immediate, volumeBindingMode: 'Immediate', reclaimPolicy: 'Delete', parameters: { type: 'gp3' } },
      { name: SC.wffc, volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete', parameters: { type: 'gp3', 'csi.storage.k8s.io/fstype': 'ext4' } },
      { name: SC.retain, volumeBindingMode: 'Immediate', reclaimPolicy: 'Retain', parameters: { type: 'gp3' } },
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
  /** The example VolumeAttributesClass (infra/kubernetes/examples), applied as v1beta1. */
  fastVac?: { name: string; parameters: Record<string, string> };
  /** The controller's ControllerGetCapabilities, by name. */
  capabilities: string[];
  /** When the sidecars were started (ms since the epoch). */
  sidecarsStarted: number;
  /** The rendered CSIDriver's spec.storageCapacity. */
  storageCapacity: boolean;
  check(): void;
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
  const state: { pv1?: Pv; pvWffc?: Pv } = {};
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
      await step('PVC (WaitForFirstConsumer) stays Pending without a selected node', async () => {
        await c.kube.create(pvc(c, 'data-wffc', SC.wffc, '1Gi'));
        await waitFor('a WaitForFirstConsumer event', async () => ((await eventsOf(c, 'data-wffc')).includes('WaitForFirstConsumer') ? true : undefined), {
          timeoutMs: 30_000,
        });
        const p = await c.kube.get<Pvc>(pvcPath(c, 'data-wffc'));
        if (p.status?.phase !== 'Pending' || p.spec.volumeName)
          throw new Error(`PVC data-wffc is ${p.status?.phase} (volume ${p.spec.volumeName}) before any node was selected`);
      });
      await step(`selected-node annotation → PV Bound in ${c.stack.zone}`, async () => {
        await c.kube.merge(pvcPath(c, 'data-wffc'), { metadata: { annotations: { [SELECTED_NODE]: c.nodeName } } });
        const pv = await boundPv(c, 'data-wffc');
        const zones = zonesOf(pv);
        if (!zones.includes(c.stack.zone))
          throw new Error(`PV ${pv.metadata.name} node affinity zones ${JSON.stringify(zones)} lack the selected node's ${c.stack.zone}`);
        await expectVolume(c, volumeIdOf(pv), { sizeGiB: 1 });
        const v = await volumeById(c.ec2, volumeIdOf(pv));
        if (v?.AvailabilityZone !== c.stack.zone) throw new Error(`EC2 volume is in ${v?.AvailabilityZone}, want ${c.stack.zone}`);
        state.pvWffc = pv;
      });
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
          apiVersion: 'storage.k8s.io/v1beta1',
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
      for (const claim of ['data-immediate', 'data-wffc', 'data-restored', 'data-vac']) {
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
  const helm = await ensureHelm((m) => log(m));

  await rm(LOG_DIR, { recursive: true, force: true });
  await mkdir(LOG_DIR, { recursive: true });
  const runDir = await mkdtemp(join(tmpdir(), 'plinth-k8s-e2e-'));
  const clusterId = `k8s-e2e-${Date.now().toString(36)}`;
  const ec2 = ec2Of(stack);
  const results: StepResult[] = [];
  const notes: string[] = [];
  let cp: ControlPlane | undefined;
  let controller: ControllerProcess | undefined;
  let node: NodeAgentProcess | undefined;
  let host: FakeHost | undefined;
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
    cp = await startControlPlane({ dir: runDir, logDir: LOG_DIR, bin: (n) => join(binDir(), n), log });
    const kube = cp.kube;
    log(`control plane ready in ${secs(t).toFixed(1)} s`);

    // Snapshot CRDs from the external-snapshotter client module.
    t = Date.now();
    for (const file of await snapshotCrdFiles()) {
      for (const crd of parseManifests(await readFile(file, 'utf8'), file) as KubeObject[]) await kube.apply(crd);
    }
    for (const n of ['volumesnapshotclasses', 'volumesnapshotcontents', 'volumesnapshots']) {
      await waitFor(`CRD ${n} Established`, async () => {
        const crd = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${n}.snapshot.storage.k8s.io`,
        );
        return crd.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? true : undefined;
      });
    }
    await waitFor('snapshot.storage.k8s.io/v1 served', async () => ((await kube.serves('snapshot.storage.k8s.io/v1', 'VolumeSnapshot')) ? true : undefined));
    log(`snapshot CRDs installed in ${secs(t).toFixed(1)} s`);

    // The chart: render, dry-run everything, apply the storage objects.
    t = Date.now();
    const rendered = parseManifests(await renderChart(helm, e2eValues(clusterId, stack)), 'helm template (e2e values)') as KubeObject[];
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
    // The VolumeAttributesClass example is storage.k8s.io/v1 (Kubernetes ≥ 1.34); 1.33 serves v1beta1 behind a gate.
    let fastVac: Ctx['fastVac'];
    for (const vac of exampleObjs.filter((o) => o.kind === 'VolumeAttributesClass' && o.apiVersion === 'storage.k8s.io/v1')) {
      const beta = { ...vac, apiVersion: 'storage.k8s.io/v1beta1' };
      await kube.apply(beta, { dryRun: true });
      log(`dry-run VolumeAttributesClass/${vac.metadata.name} as storage.k8s.io/v1beta1 (this 1.33 server has no v1): accepted`);
      await kube.apply(beta);
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
    const ns = `e2e-${clusterId}`;
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

    // Plinth: controller and node agent on the stack.
    host = await createFakeHost();
    redisUrl = await freshRedis(stack.redisUrl, REDIS_DB);
    controller = await startController(
      testControllerEnv({ redisUrl, region: stack.region, zone: stack.zone, ec2Endpoint: stack.ec2Endpoint, cluster: clusterId }),
      { endpoint: `unix://${join(runDir, 'controller.sock')}` },
    );
    node = await startNodeAgent(`unix://${join(runDir, 'node.sock')}`, {
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
      HEARTBEAT_INTERVAL_MS: '1000',
    });
    const caps = (await callUnary(controller.controller, 'controllerGetCapabilities', {})).capabilities.map((x) => x.rpc?.type);
    const capNames = caps.map((x) => (x === undefined ? '?' : Rpc[x]));
    log(`controller ${controller.endpoint} advertises ${capNames.join(', ')}; node agent ${node.endpoint}; cluster id ${clusterId}`);

    // The Node and its CSINode, from NodeGetInfo (kubelet's plugin registration does the same).
    const nodeClient = new NodeClient(node.endpoint, credentials.createInsecure());
    const info = await callUnary(nodeClient, 'nodeGetInfo', {});
    nodeClient.close();
    const segments = info.accessibleTopology?.segments ?? {};
    await kube.create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE_NAME, labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', ...segments } },
      spec: { providerID: `aws:///${stack.zone}/${info.nodeId}` },
    });
    await kube.create({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSINode',
      metadata: { name: NODE_NAME },
      spec: {
        drivers: [
          {
            name: driver,
            nodeID: info.nodeId,
            topologyKeys: Object.keys(segments),
            ...(info.maxVolumesPerNode ? { allocatable: { count: info.maxVolumesPerNode } } : {}),
          },
        ],
      },
    });
    log(`Node ${NODE_NAME}: CSINode ${driver} nodeID ${info.nodeId}, topology ${JSON.stringify(segments)}, attach limit ${info.maxVolumesPerNode}`);

    // The sidecars, with the arguments the chart gives them, and snapshot-controller.
    const deployment = rendered.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-controller'));
    const containers = (deployment?.spec as { template: { spec: { containers: Container[] } } } | undefined)?.template.spec.containers ?? [];
    const socket = join(runDir, 'controller.sock');
    const sidecarsStarted = Date.now();
    const sidecarEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' };
    for (const name of ['csi-provisioner', 'csi-attacher', 'csi-resizer', 'csi-snapshotter']) {
      const ctr = containers.find((x) => x.name === name);
      if (!ctr?.args) throw new Error(`the chart's controller Deployment has no ${name} container`);
      const { args: sidecarArgs, env, changed } = asLocalProcess(ctr, socket, deployment?.metadata.namespace ?? 'kube-system');
      for (const c of changed) notes.push(`${name}: ${c}`);
      sidecars.push(
        startProc(name, join(binDir(), name), [...sidecarArgs, `--kubeconfig=${cp.kubeconfig}`], { logDir: LOG_DIR, env: { ...sidecarEnv, ...env } }),
      );
    }
    sidecars.push(
      startProc('snapshot-controller', join(binDir(), 'snapshot-controller'), [`--kubeconfig=${cp.kubeconfig}`, '--leader-election=false', '--v=2'], {
        logDir: LOG_DIR,
        env: sidecarEnv,
      }),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const procs = Object.fromEntries(sidecars.map((p) => [p.name, p]));
    const core = sidecars.filter((p) => p.name !== 'csi-snapshotter');
    const controlPlane = cp;
    const check = (): void => {
      if (interrupted) throw new Fatal('interrupted');
      controlPlane.check();
      core.forEach(assertRunning);
    };
    check();
    guard = check;
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
    for (const p of sidecars.reverse()) await teardown(p.name, () => p.stop());
    await teardown('node agent', async () => {
      if (!node) return;
      await node.stop();
      await writeFile(join(LOG_DIR, 'node-agent.log'), node.output());
    });
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
    await teardown('fake host', async () => host?.cleanup());
    await teardown('redis', async () => {
      if (redisUrl) await flushRedis(redisUrl);
    });
    await teardown('run dir', () => rm(runDir, { recursive: true, force: true }));
    ec2.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

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
async function writeReport(passed: number, failed: number): Promise<void> {
  const file = process.env.PLINTH_TIER_REPORT;
  if (file) await writeFile(file, JSON.stringify({ numPassedTests: passed, numFailedTests: failed, numPendingTests: 0, numTodoTests: 0, testResults: [] }));
}

process.exitCode = await main();
// A stray handle must not keep a finished run alive.
setTimeout(() => process.exit(), 5000).unref();
