import type { VolumeInfo, VolumeStatusInfo } from '@plinth/cloud';
import { VolumeHealthErrorType as Health, type VolumeHealth, type VolumeHealth_VolumeHealthEntry as HealthEntry } from '@plinth/csi';
import type { StatusChecks } from './volume-condition.js';

const detail = (s: VolumeStatusInfo, name: string): string | undefined => s.details.find((d) => d.name === name)?.status;

/** "event potential-data-inconsistency: …; action enable-volume-io: …": what EC2 says alongside a status. */
function eventsAndActions(s: VolumeStatusInfo): string {
  const parts = [
    ...s.events.map((e) => `event ${e.type}${e.description ? `: ${e.description}` : ''}`),
    ...s.actions.map((a) => `action ${a.code}${a.description ? `: ${a.description}` : ''}`),
  ];
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/** What EC2's status checks (DescribeVolumeStatus) say is wrong, as CSI health entries. */
function fromStatusChecks(id: string, s: VolumeStatusInfo): HealthEntry[] {
  const extra = eventsAndActions(s);
  const out: HealthEntry[] = [];
  const ioEnabled = detail(s, 'io-enabled');
  const ioPerformance = detail(s, 'io-performance');
  if (ioEnabled === 'failed')
    out.push({ status: Health.INACCESSIBLE, reason: 'IoDisabled', message: `EC2 disabled I/O to ${id} after a suspected data inconsistency${extra}` });
  if (ioPerformance === 'stalled') out.push({ status: Health.INACCESSIBLE, reason: 'IoStalled', message: `EC2 reports I/O to ${id} stalled${extra}` });
  if (ioPerformance === 'degraded' || ioPerformance === 'severely-degraded')
    out.push({ status: Health.DEGRADED, reason: 'IoPerformanceDegraded', message: `EC2 reports the I/O performance of ${id} ${ioPerformance}${extra}` });
  // A status worse than its details explain (EC2 may add checks): still reported, never dropped.
  if (out.length === 0 && s.status === 'impaired')
    out.push({ status: Health.INACCESSIBLE, reason: 'StatusImpaired', message: `EC2 status check of ${id}: impaired${extra}` });
  if (out.length === 0 && s.status === 'warning')
    out.push({ status: Health.DEGRADED, reason: 'StatusWarning', message: `EC2 status check of ${id}: warning${extra}` });
  return out;
}

/** Attachments EC2 reports `busy` (the instance still uses a volume being detached), or stuck `attaching` past `stuckAttachMs`. */
function fromAttachments(v: VolumeInfo, now: number, stuckAttachMs: number): HealthEntry[] {
  const out: HealthEntry[] = [];
  const busy = v.attachments.filter((a) => a.state === 'busy').map((a) => a.instanceId);
  if (busy.length > 0)
    out.push({
      status: Health.DEGRADED,
      reason: 'AttachmentBusy',
      message: `EC2 reports the attachment of ${v.id} to ${busy.join(', ')} busy: the instance still uses it while it is being detached`,
    });
  const stuck = v.attachments.filter((a) => a.state === 'attaching' && a.attachedAt && now - a.attachedAt.getTime() > stuckAttachMs).map((a) => a.instanceId);
  if (stuck.length > 0)
    out.push({
      status: Health.INACCESSIBLE,
      reason: 'AttachmentStuck',
      message: `${v.id} has been attaching to ${stuck.join(', ')} for more than ${Math.round(stuckAttachMs / 1000)} s`,
    });
  return out;
}

export interface HealthOptions {
  /** Now, in epoch ms. */
  now: number;
  /** An attachment `attaching` longer than this is reported stuck (STUCK_ATTACH_TIMEOUT_MS). */
  stuckAttachMs: number;
}

/**
 * A volume's health as the controller sees it (CSI 1.13 VolumeHealth): from
 * its EC2 state, its status checks and its attachments. Empty
 * `healthStatuses` when nothing is known to be wrong: a volume being
 * created, checks still running (`insufficient-data`) or an endpoint without
 * status checks (LocalStack, moto) report no problem.
 *
 * - `error` state: DATA_LOSS (EC2 says the volume cannot be used and its data may be lost; restore from a snapshot)
 * - being deleted: INACCESSIBLE
 * - io-enabled `failed` (I/O disabled after a suspected inconsistency), io-performance `stalled`, or `impaired`: INACCESSIBLE
 * - io-performance `degraded`/`severely-degraded`, or `warning`: DEGRADED
 * - an attachment `busy`: DEGRADED; `attaching` past the stuck-attach timeout: INACCESSIBLE
 */
export function volumeHealth(v: VolumeInfo, checks: StatusChecks, o: HealthOptions): VolumeHealth {
  const id = v.id;
  const entries: HealthEntry[] = [];
  if (v.state === 'error')
    entries.push({
      status: Health.DATA_LOSS,
      reason: 'VolumeError',
      message: `EC2 reports ${id} in the error state: the volume cannot be used and its data may be lost; restore it from a snapshot`,
    });
  if (v.state === 'deleting' || v.state === 'deleted')
    entries.push({ status: Health.INACCESSIBLE, reason: 'VolumeDeleting', message: `${id} is being deleted` });
  if (checks && checks !== 'unavailable') entries.push(...fromStatusChecks(id, checks));
  entries.push(...fromAttachments(v, o.now, o.stuckAttachMs));
  return { volumeId: id, healthStatuses: entries };
}
