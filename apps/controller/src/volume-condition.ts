import type { Volume, VolumeStatusItem } from '@plinth/cloud';
import type { Volume as CsiVolume, VolumeCondition } from '@plinth/csi';
import { GiB } from './capacity.js';
import { topologyFor } from './topology.js';

/** What is known of a volume's EC2 status checks: the item, or that the endpoint has none (`unavailable`). */
export type StatusChecks = VolumeStatusItem | undefined | 'unavailable';

/** "io-enabled failed, io-performance stalled": the details that are not fine. */
function badDetails(s: VolumeStatusItem): string[] {
  const fine = new Set(['passed', 'normal', 'not-applicable']);
  return (s.VolumeStatus?.Details ?? []).filter((d) => d.Status && !fine.has(d.Status)).map((d) => `${d.Name} ${d.Status}`);
}

/** Scheduled events and the actions EC2 suggests, e.g. "event potential-data-inconsistency: …; action enable-volume-io: …". */
function eventsAndActions(s: VolumeStatusItem): string[] {
  const events = (s.Events ?? []).map((e) => `event ${e.EventType}${e.Description ? `: ${e.Description}` : ''}`);
  const actions = (s.Actions ?? []).map((a) => `action ${a.Code}${a.Description ? `: ${a.Description}` : ''}`);
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
export function volumeCondition(v: Volume, checks: StatusChecks): VolumeCondition {
  const id = v.VolumeId ?? 'volume';
  const state = v.State ?? 'unknown';
  if (state === 'error')
    return { abnormal: true, message: `EC2 reports ${id} in the error state: the volume cannot be used and its data may be lost; restore it from a snapshot` };
  if (state === 'deleting' || state === 'deleted') return { abnormal: true, message: `${id} is being deleted` };

  if (checks === 'unavailable') return { abnormal: false, message: `${id} is ${state} (this EC2 endpoint has no volume status checks)` };
  if (!checks) return { abnormal: false, message: `${id} is ${state}${state === 'creating' ? '' : '; EC2 has reported no status checks for it yet'}` };

  const status = checks.VolumeStatus?.Status ?? 'unknown';
  const details = badDetails(checks);
  const extra = joined([...details, ...eventsAndActions(checks)]);
  if (status === 'impaired') return { abnormal: true, message: `EC2 status check of ${id}: impaired${extra}` };
  if (status === 'warning') return { abnormal: true, message: `EC2 status check of ${id}: warning, performance degraded${extra}` };
  if (details.length > 0) return { abnormal: true, message: `EC2 status check of ${id}: ${status}${extra}` };
  if (status === 'insufficient-data') return { abnormal: false, message: `${id} is ${state}; EC2 status checks are still running (insufficient-data)${extra}` };
  return { abnormal: false, message: `${id} is ${state}; EC2 status checks ${status}${extra}` };
}

/** The nodes a volume is attached to (or attaching to, or detaching from): every attachment not yet detached. */
export function publishedNodeIds(v: Volume): string[] {
  return [...new Set((v.Attachments ?? []).filter((a) => a.InstanceId && a.State !== 'detached').map((a) => a.InstanceId!))];
}

/**
 * A volume as ListVolumes and ControllerGetVolume report it: id, size, zone,
 * the nodes it is published on and its condition. The volume context is
 * empty: CreateVolume's (fsType, format options) is not stored in EC2.
 */
export function volumeEntry(v: Volume, checks: StatusChecks): { volume: CsiVolume; status: { publishedNodeIds: string[]; volumeCondition: VolumeCondition } } {
  return {
    volume: {
      volumeId: v.VolumeId ?? '',
      capacityBytes: (v.Size ?? 0) * GiB,
      volumeContext: {},
      contentSource: undefined,
      accessibleTopology: v.AvailabilityZone ? [topologyFor(v.AvailabilityZone)] : [],
    },
    status: { publishedNodeIds: publishedNodeIds(v), volumeCondition: volumeCondition(v, checks) },
  };
}
