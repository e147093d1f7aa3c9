/**
 * Pods of the e2e: busybox (./images.ts) with the host's network, no ServiceAccount token, never pulled. A Pod
 * reports what it saw through its termination message (the last thing its script writes to
 * /dev/termination-log), so the test reads a Pod's result from the API, as a user reading `kubectl describe` would.
 */
import { IMAGES } from './images.js';
import { waitFor, type Kube, type KubeObject } from './kube.js';

export interface PodVolume {
  claim: string;
  /** Filesystem mount at /data (default), or a raw block device at /dev/xvdb. */
  block?: boolean;
  readOnly?: boolean;
}

export type PodObj = KubeObject & {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      state?: { terminated?: { exitCode: number; message?: string }; running?: unknown; waiting?: { reason?: string; message?: string } };
    }[];
  };
};

export const DATA = '/data';
export const BLOCK = '/dev/xvdb';

export function podOf(ns: string, name: string, script: string, vol?: PodVolume, extra: { nodeName?: string } = {}): KubeObject {
  const container: Record<string, unknown> = {
    name: 'main',
    image: IMAGES.busybox,
    imagePullPolicy: 'Never',
    command: ['/bin/sh', '-c', script],
    terminationMessagePolicy: 'File',
  };
  const volumes: unknown[] = [];
  if (vol) {
    volumes.push({ name: 'vol', persistentVolumeClaim: { claimName: vol.claim, ...(vol.readOnly ? { readOnly: true } : {}) } });
    if (vol.block) container.volumeDevices = [{ name: 'vol', devicePath: BLOCK }];
    else container.volumeMounts = [{ name: 'vol', mountPath: DATA, ...(vol.readOnly ? { readOnly: true } : {}) }];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      hostNetwork: true,
      dnsPolicy: 'Default',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
      containers: [container],
      volumes,
    },
  };
}

export const podPath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/pods/${name}`;

async function podEvents(kube: Kube, ns: string, name: string): Promise<string> {
  const list = await kube.get<{ items: { involvedObject: { name: string }; reason: string; message: string; source?: { component?: string } }[] }>(
    `/api/v1/namespaces/${ns}/events`,
  );
  return list.items
    .filter((e) => e.involvedObject.name === name)
    .map((e) => `  ${e.reason} (${e.source?.component ?? '?'}): ${e.message}`)
    .join('\n');
}

async function describePod(kube: Kube, ns: string, name: string): Promise<string> {
  const p = await kube.find<PodObj>(podPath(ns, name));
  return `pod ${name}: ${JSON.stringify(p?.status ?? 'gone')}\n${await podEvents(kube, ns, name)}`;
}

/** Waits until the Pod's container exited and returns its termination message (a non-zero exit fails). */
export async function podResult(
  kube: Kube,
  ns: string,
  name: string,
  o: { timeoutMs?: number; check?: () => void; expectFailure?: boolean } = {},
): Promise<string> {
  const p = await waitFor(
    `Pod ${name} finished`,
    async () => {
      o.check?.();
      const pod = await kube.get<PodObj>(podPath(ns, name));
      return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? pod : undefined;
    },
    { timeoutMs: o.timeoutMs ?? 120_000, describe: () => describePod(kube, ns, name) },
  );
  const t = p.status?.containerStatuses?.[0]?.state?.terminated;
  const msg = (t?.message ?? '').trim();
  if (!o.expectFailure && p.status?.phase !== 'Succeeded') throw new Error(`Pod ${name} ${p.status?.phase} (exit ${t?.exitCode}): ${msg}`);
  return msg;
}

export async function podRunning(kube: Kube, ns: string, name: string, o: { timeoutMs?: number; check?: () => void } = {}): Promise<PodObj> {
  return waitFor(
    `Pod ${name} Running`,
    async () => {
      o.check?.();
      const pod = await kube.get<PodObj>(podPath(ns, name));
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') throw new Error(`Pod ${name} ended: ${JSON.stringify(pod.status)}`);
      return pod.status?.phase === 'Running' ? pod : undefined;
    },
    { timeoutMs: o.timeoutMs ?? 120_000, describe: () => describePod(kube, ns, name) },
  );
}

/** Deletes a Pod and waits until it is gone (the kubelet unmounted its volumes and confirmed). */
export async function deletePod(kube: Kube, ns: string, name: string, timeoutMs = 120_000): Promise<void> {
  await kube.delete(podPath(ns, name));
  await waitFor(`Pod ${name} gone`, async () => ((await kube.find(podPath(ns, name))) ? undefined : true), {
    timeoutMs,
    describe: () => describePod(kube, ns, name),
  });
}

/** The PodScheduled=False condition's message, once the scheduler has given one. */
export async function unschedulable(kube: Kube, ns: string, name: string, timeoutMs = 60_000): Promise<string> {
  return waitFor(
    `Pod ${name} Unschedulable`,
    async () => {
      const pod = await kube.get<PodObj>(podPath(ns, name));
      const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' && c.reason === 'Unschedulable' ? (c.message ?? '') : undefined;
    },
    { timeoutMs, describe: () => describePod(kube, ns, name) },
  );
}
