import type { StatusChecks, VolumeInfo, VolumeStatusInfo } from '@plinth/cloud';
import type { Volume as CsiVolume, VolumeCondition } from '@plinth/csi';
import { GiB } from './capacity.js';
import { topologyFor } from './topology.js';

/** "io-enabled failed, io-performance stalled": the details that are not fine. */
function badDetails(s: VolumeStatusInfo): string[] {
  const fine = new Set(['passed', 'normal', 'not-applicable']);
  return s.details.filter((d) => d.status && !fine.has(d.status)).map((d) => `${d.name} ${d.status}`);
}

/** Scheduled events and the actions EC2 suggests, e.g. "event potential-data-inconsistency: …; action enable-volume-io: …". */
function eventsAndActions(s: VolumeStatusInfo): string[] {
  const events = s.events.map((e) => `event ${e.type}${e.description ? `: ${e.description}` : ''}`);
  const actions = s.actions.map((a) => `action ${a.code}${a.description ? `: ${a.description}` : ''}`);
  return [...events, ...actions];
}

const joined = (parts: string[]) => (parts.length > 0 ? ` (${parts.join('; ')})` : '');

/**
 * The CSI condition of an EBS volume from what EC2 reports: its state
 * (DescribeVolumes) and its status checks (DescribeVolumeStatus). Abnormal:
 * the `error` state, being deleted, status `impaired` (I/O disabled after
 * suspected data inconsistency, or I/O stalled) or `warning` (performance
 * degraded), or any failed check detail. `insufficient-data` (checks still
 * running) and a volume being created are normal.
 */
export function volumeCondition(v: VolumeInfo, checks: StatusChecks): VolumeCondition {
  const id = v.id || 'volume';
  const state = v.state;
  if (state === 'error')
    return { abnormal: true, message: `EC2 reports ${id} in the error state: the volume cannot be used and its data may be lost; restore it from a snapshot` };
  if (state === 'deleting' || state === 'deleted') return { abnormal: true, message: `${id} is being deleted` };

  if (checks === 'unavailable') return { abnormal: false, message: `${id} is ${state} (this EC2 endpoint has no volume status checks)` };
  if (!checks) return { abnormal: false, message: `${id} is ${state}${state === 'creating' ? '' : '; EC2 has reported no status checks for it yet'}` };

  const status = checks.status;
  const details = badDetails(checks);
  const extra = joined([...details, ...eventsAndActions(checks)]);
  if (status === 'impaired') return { abnormal: true, message: `EC2 status check of ${id}: impaired${extra}` };
  if (status === 'warning') return { abnormal: true, message: `EC2 status check of ${id}: warning, performance degraded${extra}` };
  if (details.length > 0) return { abnormal: true, message: `EC2 status check of ${id}: ${status}${extra}` };
  if (status === 'insufficient-data') return { abnormal: false, message: `${id} is ${state}; EC2 status checks are still running (insufficient-data)${extra}` };
  return { abnormal: false, message: `${id} is ${state}; EC2 status checks ${status}${extra}` };
}

/** The nodes a volume is attached to (or attaching to, or detaching from): every attachment not yet detached. */
export function publishedNodeIds(v: VolumeInfo): string[] {
  return [...new Set(v.attachments.filter((a) => a.instanceId && a.state !== 'detached').map((a) => a.instanceId))];
}

/**
 * A volume as ListVolumes and ControllerGetVolume report it: id, size, zone,
 * the nodes it is published on and its condition. The volume context is
 * empty: CreateVolume's (fsType, format options) is not stored in EC2.
 */
export function volumeEntry(
  v: VolumeInfo,
  checks: StatusChecks,
): { volume: CsiVolume; status: { publishedNodeIds: string[]; volumeCondition: VolumeCondition } } {
  return {
    volume: {
      volumeId: v.id,
      capacityBytes: v.sizeGiB * GiB,
      volumeContext: {},
      contentSource: undefined,
      accessibleTopology: v.zone ? [topologyFor(v.zone)] : [],
    },
    status: { publishedNodeIds: publishedNodeIds(v), volumeCondition: volumeCondition(v, checks) },
  };
}
