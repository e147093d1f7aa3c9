import { TAG_CSI_NAME, volumeProblems, type StatusChecks, type VolumeInfo, type VolumeProblem } from '@plinth/cloud';

const PVC_NAME_TAG = 'kubernetes.io/created-for/pvc/name';
const PVC_NAMESPACE_TAG = 'kubernetes.io/created-for/pvc/namespace';
const PV_NAME_TAG = 'kubernetes.io/created-for/pv/name';

export interface VolumeSummary {
  id: string;
  name: string | null;
  zone: string;
  type: string;
  sizeGiB: number;
  iops: number | null;
  throughput: number | null;
  state: string;
  encrypted: boolean;
  createdAt: string | null;
  pvc: { namespace: string; name: string } | null;
  pvName: string | null;
  attachments: { instanceId: string; device: string | null; state: string; attachedAt: string | null }[];
  health: VolumeHealthView;
}

/** A volume's health as EC2 tells it (the controller's ControllerGetVolumeHealth rules). */
interface VolumeHealthView {
  healthy: boolean;
  /** EC2's status check (ok, warning, impaired, insufficient-data); null before EC2 has one, or where the endpoint has none. */
  statusCheck: string | null;
  problems: VolumeProblem[];
}

/** An attachment `attaching` this long is reported stuck (the controller's default STUCK_ATTACH_TIMEOUT_MS, aws-ebs-csi-driver's 90 s). */
const STUCK_ATTACH_MS = 90_000;

export interface VolumeFilter {
  zone?: string | undefined;
  node?: string | undefined;
  state?: string | undefined;
  type?: string | undefined;
  pvcNamespace?: string | undefined;
  pvcName?: string | undefined;
  health?: 'healthy' | 'unhealthy' | undefined;
}

const iso = (d: Date | undefined): string | null => (d ? new Date(d).toISOString() : null);

export function summary(v: VolumeInfo, checks: StatusChecks = 'unavailable', now = Date.now()): VolumeSummary {
  const problems = volumeProblems(v, checks, { now, stuckAttachMs: STUCK_ATTACH_MS });
  const ns = v.tags[PVC_NAMESPACE_TAG];
  const pvc = v.tags[PVC_NAME_TAG];
  return {
    id: v.id,
    name: v.tags[TAG_CSI_NAME] ?? null,
    zone: v.zone,
    type: v.type,
    sizeGiB: v.sizeGiB,
    iops: v.iops ?? null,
    throughput: v.throughput ?? null,
    state: v.state,
    encrypted: v.encrypted,
    createdAt: iso(v.createdAt),
    pvc: ns !== undefined && pvc !== undefined ? { namespace: ns, name: pvc } : null,
    pvName: v.tags[PV_NAME_TAG] ?? null,
    attachments: v.attachments
      .filter((a) => a.state !== 'detached')
      .map((a) => ({ instanceId: a.instanceId, device: a.device || null, state: a.state, attachedAt: iso(a.attachedAt) })),
    health: { healthy: problems.length === 0, statusCheck: checks && checks !== 'unavailable' ? checks.status : null, problems },
  };
}

export function matches(s: VolumeSummary, f: VolumeFilter): boolean {
  if (f.zone !== undefined && s.zone !== f.zone) return false;
  if (f.state !== undefined && s.state !== f.state) return false;
  if (f.type !== undefined && s.type !== f.type) return false;
  if (f.node !== undefined && !s.attachments.some((a) => a.instanceId === f.node)) return false;
  if (f.pvcNamespace !== undefined && s.pvc?.namespace !== f.pvcNamespace) return false;
  if (f.pvcName !== undefined && s.pvc?.name !== f.pvcName) return false;
  if (f.health !== undefined && s.health.healthy !== (f.health === 'healthy')) return false;
  return true;
}

/**
 * One page of volumes matching `f`, ordered by id. The cursor is the last id
 * of the previous page, so pages stay stable while volumes come and go.
 */
export function page(
  all: readonly VolumeSummary[],
  f: VolumeFilter,
  limit: number,
  after?: string,
): { items: VolumeSummary[]; total: number; nextCursor: string | null } {
  const matching = all.filter((s) => matches(s, f)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const start = after ? matching.findIndex((s) => s.id > after) : 0;
  const rest = start < 0 ? [] : matching.slice(start);
  const items = rest.slice(0, limit);
  const more = rest.length > limit;
  return { items, total: matching.length, nextCursor: more ? (items[items.length - 1]?.id ?? null) : null };
}
