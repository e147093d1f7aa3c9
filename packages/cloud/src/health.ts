import type { VolumeInfo, VolumeStatusInfo } from './types.js';

/** What is known of a volume's EC2 status checks: the item, or that the endpoint has none (`unavailable`). */
export type StatusChecks = VolumeStatusInfo | undefined | 'unavailable';

/** One problem with a volume, in CSI 1.13's terms (VolumeHealthErrorType, a CamelCase reason, a message). */
export interface VolumeProblem {
  status: 'degraded' | 'inaccessible' | 'data_loss';
  reason: string;
  message: string;
}

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
function fromStatusChecks(id: string, s: VolumeStatusInfo): VolumeProblem[] {
  const extra = eventsAndActions(s);
  const out: VolumeProblem[] = [];
  const ioEnabled = detail(s, 'io-enabled');
  const ioPerformance = detail(s, 'io-performance');
  if (ioEnabled === 'failed')
    out.push({ status: 'inaccessible', reason: 'IoDisabled', message: `EC2 disabled I/O to ${id} after a suspected data inconsistency${extra}` });
  if (ioPerformance === 'stalled') out.push({ status: 'inaccessible', reason: 'IoStalled', message: `EC2 reports I/O to ${id} stalled${extra}` });
  if (ioPerformance === 'degraded' || ioPerformance === 'severely-degraded')
    out.push({ status: 'degraded', reason: 'IoPerformanceDegraded', message: `EC2 reports the I/O performance of ${id} ${ioPerformance}${extra}` });
  // A status worse than its details explain (EC2 may add checks): still reported, never dropped.
  if (out.length === 0 && s.status === 'impaired')
    out.push({ status: 'inaccessible', reason: 'StatusImpaired', message: `EC2 status check of ${id}: impaired${extra}` });
  if (out.length === 0 && s.status === 'warning')
    out.push({ status: 'degraded', reason: 'StatusWarning', message: `EC2 status check of ${id}: warning${extra}` });
  return out;
}

/** Attachments EC2 reports `busy` (the instance still uses a volume being detached), or stuck `attaching` past `stuckAttachMs`. */
function fromAttachments(v: VolumeInfo, now: number, stuckAttachMs: number): VolumeProblem[] {
  const out: VolumeProblem[] = [];
  const busy = v.attachments.filter((a) => a.state === 'busy').map((a) => a.instanceId);
  if (busy.length > 0)
    out.push({
      status: 'degraded',
      reason: 'AttachmentBusy',
      message: `EC2 reports the attachment of ${v.id} to ${busy.join(', ')} busy: the instance still uses it while it is being detached`,
    });
  const stuck = v.attachments.filter((a) => a.state === 'attaching' && a.attachedAt && now - a.attachedAt.getTime() > stuckAttachMs).map((a) => a.instanceId);
  if (stuck.length > 0)
    out.push({
      status: 'inaccessible',
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
 * What is wrong with a volume as EC2 tells it: its state, its status checks
 * (DescribeVolumeStatus) and its attachments; the controller's
 * ControllerGetVolumeHealth / ControllerListVolumeHealth and the admin API
 * both report these. Empty when nothing is known to be wrong: a volume being
 * created, checks still running (`insufficient-data`) or an endpoint without
 * status checks (LocalStack, moto) report no problem.
 *
 * - `error` state: DATA_LOSS (EC2 says the volume cannot be used and its data may be lost; restore from a snapshot)
 * - being deleted: INACCESSIBLE
 * - io-enabled `failed` (I/O disabled after a suspected inconsistency), io-performance `stalled`, or `impaired`: INACCESSIBLE
 * - io-performance `degraded`/`severely-degraded`, or `warning`: DEGRADED
 * - an attachment `busy`: DEGRADED; `attaching` past the stuck-attach timeout: INACCESSIBLE
 */
export function volumeProblems(v: VolumeInfo, checks: StatusChecks, o: HealthOptions): VolumeProblem[] {
  const id = v.id;
  const entries: VolumeProblem[] = [];
  if (v.state === 'error')
    entries.push({
      status: 'data_loss',
      reason: 'VolumeError',
      message: `EC2 reports ${id} in the error state: the volume cannot be used and its data may be lost; restore it from a snapshot`,
    });
  if (v.state === 'deleting' || v.state === 'deleted') entries.push({ status: 'inaccessible', reason: 'VolumeDeleting', message: `${id} is being deleted` });
  if (checks && checks !== 'unavailable') entries.push(...fromStatusChecks(id, checks));
  entries.push(...fromAttachments(v, o.now, o.stuckAttachMs));
  return entries;
}
