import { field, setOwnField, topLevelItems } from './xml.js';

/** How long each EC2 state change takes (published real-AWS medians by default). */
export interface TransitionDelays {
  createMs: number;
  attachMs: number;
  detachMs: number;
  modifyMs: number;
  snapshotMs: number;
}

export const AWS_LIKE_DELAYS: TransitionDelays = { createMs: 1500, attachMs: 2000, detachMs: 2000, modifyMs: 3000, snapshotMs: 3000 };

type Pending =
  | { kind: 'creating'; until: number }
  | { kind: 'attaching'; until: number; instanceId: string }
  | { kind: 'detaching'; until: number; instanceId: string; device: string; attachTime: string }
  | { kind: 'modifying'; until: number };

/**
 * LocalStack changes state instantly; real EC2 does not. This table remembers
 * recent state changes and makes Describe answers report the in-between state
 * (creating, attaching, detaching, optimizing) until the delay has passed, and
 * refuses the calls EC2 would refuse meanwhile.
 */
export class Transitions {
  private pending = new Map<string, Pending>();

  constructor(public delays: TransitionDelays) {}

  private live(volumeId: string, now: number): Pending | undefined {
    const p = this.pending.get(volumeId);
    if (p && p.until <= now) {
      this.pending.delete(volumeId);
      return undefined;
    }
    return p;
  }

  /** Records what a successful mutating answer started. */
  observe(action: string, params: URLSearchParams, answer: string, now = Date.now()): void {
    const volumeId = field(answer, 'volumeId') ?? params.get('VolumeId') ?? undefined;
    if (!volumeId) return;
    const d = this.delays;
    if (action === 'CreateVolume' && d.createMs > 0) this.pending.set(volumeId, { kind: 'creating', until: now + d.createMs });
    if (action === 'AttachVolume' && d.attachMs > 0)
      this.pending.set(volumeId, { kind: 'attaching', until: now + d.attachMs, instanceId: field(answer, 'instanceId') ?? '' });
    if (action === 'DetachVolume' && d.detachMs > 0)
      this.pending.set(volumeId, {
        kind: 'detaching',
        until: now + d.detachMs,
        instanceId: field(answer, 'instanceId') ?? '',
        device: field(answer, 'device') ?? '',
        attachTime: field(answer, 'attachTime') ?? '',
      });
    if (action === 'ModifyVolume' && d.modifyMs > 0) this.pending.set(volumeId, { kind: 'modifying', until: now + d.modifyMs });
    if (action === 'DeleteVolume') this.pending.delete(volumeId);
  }

  /** The EC2 error a call would get because of a change still in progress, if any. */
  refusal(action: string, params: URLSearchParams, now = Date.now()): { code: string; message: string } | undefined {
    const volumeId = params.get('VolumeId');
    if (!volumeId) return undefined;
    const p = this.live(volumeId, now);
    if (!p) return undefined;
    if (action === 'AttachVolume' && p.kind === 'creating') return { code: 'IncorrectState', message: `vol '${volumeId}' is in the 'creating' state.` };
    if (action === 'AttachVolume' && p.kind === 'detaching') return { code: 'VolumeInUse', message: `vol '${volumeId}' is detaching.` };
    if (action === 'DeleteVolume' && (p.kind === 'attaching' || p.kind === 'detaching'))
      return { code: 'VolumeInUse', message: `Volume ${volumeId} is currently attached to ${p.instanceId}` };
    if (action === 'ModifyVolume' && p.kind === 'modifying')
      return { code: 'IncorrectModificationState', message: `Volume ${volumeId} cannot be modified in modification state MODIFYING` };
    return undefined;
  }

  /** Rewrites the answer to a state change to show where real EC2 would be (CreateVolume answers "creating"). */
  rewriteAnswer(action: string, xml: string): string {
    if (action === 'CreateVolume' && this.delays.createMs > 0) return xml.replace('<status>available</status>', '<status>creating</status>');
    return xml;
  }

  /** Rewrites a DescribeVolumesModifications answer: a volume's latest modification is still `modifying` during the delay (moto completes it at once). */
  rewriteDescribeModifications(xml: string, now = Date.now()): string {
    const items = topLevelItems(xml, 'volumeModificationSet');
    const latest = new Map<string, (typeof items)[number]>();
    for (const item of items) {
      const id = field(item.text, 'volumeId');
      if (id && this.live(id, now)?.kind === 'modifying') latest.set(id, item);
    }
    let out = xml;
    for (const item of [...latest.values()].sort((a, b) => b.start - a.start)) {
      const text = setOwnField(setOwnField(item.text, 'modificationState', 'modifying'), 'progress', '0').replace(/<endTime>[^<]*<\/endTime>/, '');
      out = out.slice(0, item.start) + text + out.slice(item.end);
    }
    return out;
  }

  /** Rewrites a DescribeVolumes answer to show in-between states. */
  rewriteDescribeVolumes(xml: string, now = Date.now()): string {
    const items = topLevelItems(xml, 'volumeSet');
    let out = xml;
    for (const item of items.reverse()) {
      const id = field(item.text, 'volumeId');
      const p = id ? this.live(id, now) : undefined;
      if (!p) continue;
      let text = item.text;
      if (p.kind === 'creating') text = setOwnField(text, 'status', 'creating');
      if (p.kind === 'attaching') text = text.replace('<status>attached</status>', '<status>attaching</status>');
      if (p.kind === 'detaching' && !text.includes(`<instanceId>${p.instanceId}</instanceId>`)) {
        text = setOwnField(text, 'status', 'in-use');
        const att = `<attachmentSet><item><volumeId>${id}</volumeId><instanceId>${p.instanceId}</instanceId><device>${p.device}</device><status>detaching</status><attachTime>${p.attachTime}</attachTime><deleteOnTermination>false</deleteOnTermination></item></attachmentSet>`;
        // moto writes <attachmentSet/>, LocalStack <attachmentSet />.
        text = /<attachmentSet\s*\/>/.test(text) ? text.replace(/<attachmentSet\s*\/>/, att) : text.replace(/<attachmentSet>.*?<\/attachmentSet>/, att);
      }
      out = out.slice(0, item.start) + text + out.slice(item.end);
    }
    return out;
  }
}
