import type { InstanceInfo, InstanceTypeInfo, VolumeInfo } from '@plinth/cloud';
import type { NodeRegistration } from '@plinth/nodes';
import type { KubeNode } from './kube.js';
import { limitBreakdown, type LimitBreakdown } from '@plinth/cloud';

interface AttachmentView {
  volumeId: string;
  device: string | null;
  state: string;
  /** True for this cluster's volumes (CSI), false for the root disk and other devices. */
  csi: boolean;
}

interface Disagreement {
  field: string;
  message: string;
  values: Record<string, string | number | null>;
}

export interface NodeView {
  instanceId: string;
  kubernetesName: string | null;
  instanceType: string | null;
  zone: string | null;
  sources: { redis: boolean; kubernetes: boolean; ec2: boolean };
  registration: { attachLimit: number; driverName: string; startedAt: string; heartbeatAt: string } | null;
  /** The limit the controller enforces: the agent's registered one, else Kubernetes' CSINode count, else the one computed from EC2. */
  attachLimit: number | null;
  attachLimitSource: 'redis' | 'kubernetes' | 'ec2' | null;
  /** This cluster's volumes attached or attaching to the node. */
  attachedCount: number;
  /** Device slots the controller holds for the node in Redis (attached + attaching). */
  reservedSlots: number;
  remainingSlots: number | null;
  limit: LimitBreakdown | null;
  attachments: AttachmentView[];
  kubernetes: {
    name: string;
    allocatable: number | null;
    attachments: { volumeId: string | null; persistentVolume: string | null; attached: boolean }[];
  } | null;
  disagreements: Disagreement[];
}

export interface NodeInputs {
  instanceId: string;
  registration?: NodeRegistration | undefined;
  kube?: KubeNode | undefined;
  /** Whether Kubernetes is a source at all (so absence from it is news). */
  kubeEnabled: boolean;
  instance?: InstanceInfo | undefined;
  instanceType?: InstanceTypeInfo | undefined;
  /** This cluster's volumes. */
  volumes: readonly Pick<VolumeInfo, 'id' | 'attachments'>[];
  reservedSlots: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function differ(field: string, values: Record<string, string | number | null | undefined>, what: string): Disagreement | undefined {
  const present = Object.entries(values).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== null && e[1] !== '');
  if (new Set(present.map(([, v]) => String(v))).size <= 1) return undefined;
  return { field, message: `${what} differs: ${present.map(([k, v]) => `${k} says ${v}`).join(', ')}`, values: Object.fromEntries(present) };
}

/**
 * One node as seen by its Redis registration, EC2 and (when enabled)
 * Kubernetes. Pure; every disagreement between the sources is listed.
 */
export function nodeView(n: NodeInputs): NodeView {
  const { registration: reg, kube, instance } = n;
  const clusterIds = new Set(n.volumes.map((v) => v.id));
  const attachments = new Map<string, AttachmentView>();
  for (const m of instance?.blockDevices ?? []) {
    const id = m.volumeId;
    if (id) attachments.set(id, { volumeId: id, device: m.device || null, state: m.state ?? 'attached', csi: clusterIds.has(id) });
  }
  for (const v of n.volumes) {
    for (const a of v.attachments) {
      if (a.instanceId !== n.instanceId || a.state === 'detached') continue;
      attachments.set(v.id, { volumeId: v.id, device: a.device || attachments.get(v.id)?.device || null, state: a.state, csi: true });
    }
  }
  const list = [...attachments.values()].sort((a, b) => (a.device ?? '').localeCompare(b.device ?? ''));
  const attachedCount = list.filter((a) => a.csi).length;
  const limit = instance ? limitBreakdown(instance, n.instanceType) : null;
  const [attachLimit, attachLimitSource] = reg
    ? ([reg.attachLimit, 'redis'] as const)
    : kube?.allocatable !== undefined
      ? ([kube.allocatable, 'kubernetes'] as const)
      : limit
        ? ([limit.computedLimit, 'ec2'] as const)
        : ([null, null] as const);

  const disagreements: Disagreement[] = [];
  const push = (d: Disagreement | undefined) => d && disagreements.push(d);
  if (reg && !instance)
    disagreements.push({
      field: 'instance',
      message: `registered in Redis but EC2 has no running instance ${n.instanceId}`,
      values: { redis: n.instanceId, ec2: null },
    });
  if (n.kubeEnabled && reg && !kube)
    disagreements.push({
      field: 'kubernetes',
      message: 'registered in Redis but no Kubernetes Node has this instance id',
      values: { redis: n.instanceId, kubernetes: null },
    });
  if (kube && !reg)
    disagreements.push({
      field: 'registration',
      message: `Kubernetes node ${kube.name} has no node agent registration in Redis`,
      values: { kubernetes: kube.name, redis: null },
    });
  push(differ('zone', { redis: reg?.zone, ec2: instance?.zone, kubernetes: kube?.zone }, 'zone'));
  push(differ('instanceType', { redis: reg?.instanceType, ec2: instance?.type, kubernetes: kube?.instanceType }, 'instance type'));
  push(differ('attachLimit', { redis: reg?.attachLimit, kubernetes: kube?.allocatable, ec2: limit?.computedLimit }, 'attach limit'));
  if (kube) {
    const k8sAttached = new Set(kube.attachments.filter((a) => a.attached && a.volumeId).map((a) => a.volumeId!));
    const ec2Attached = new Set(list.filter((a) => a.csi && a.state === 'attached').map((a) => a.volumeId));
    const onlyK8s = [...k8sAttached].filter((id) => !ec2Attached.has(id));
    const onlyEc2 = [...ec2Attached].filter((id) => !k8sAttached.has(id));
    if (onlyK8s.length || onlyEc2.length)
      disagreements.push({
        field: 'attachments',
        message: `VolumeAttachments and EC2 differ: only in Kubernetes [${onlyK8s.join(', ')}], only in EC2 [${onlyEc2.join(', ')}]`,
        values: { kubernetes: [...k8sAttached].sort().join(','), ec2: [...ec2Attached].sort().join(',') },
      });
  }
  const used = Math.max(attachedCount, n.reservedSlots);
  return {
    instanceId: n.instanceId,
    kubernetesName: kube?.name ?? null,
    instanceType: reg?.instanceType || instance?.type || kube?.instanceType || null,
    zone: reg?.zone || instance?.zone || kube?.zone || null,
    sources: { redis: Boolean(reg), kubernetes: Boolean(kube), ec2: Boolean(instance) },
    registration: reg ? { attachLimit: reg.attachLimit, driverName: reg.driverName, startedAt: iso(reg.startedAt), heartbeatAt: iso(reg.heartbeatAt) } : null,
    attachLimit,
    attachLimitSource,
    attachedCount,
    reservedSlots: n.reservedSlots,
    remainingSlots: attachLimit === null ? null : Math.max(0, attachLimit - used),
    limit,
    attachments: list,
    kubernetes: kube
      ? {
          name: kube.name,
          allocatable: kube.allocatable ?? null,
          attachments: kube.attachments.map((a) => ({ volumeId: a.volumeId ?? null, persistentVolume: a.persistentVolume ?? null, attached: a.attached })),
        }
      : null,
    disagreements,
  };
}
