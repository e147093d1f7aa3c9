import { field, setOwnField, topLevelItems } from './xml.js';

/** What the proxy makes DescribeVolumeStatus say about one volume (LocalStack and moto do not implement the action). */
export interface VolumeStatusOverride {
  status: 'ok' | 'warning' | 'impaired' | 'insufficient-data';
  ioEnabled?: 'passed' | 'failed';
  ioPerformance?: 'normal' | 'degraded' | 'severely-degraded' | 'stalled' | 'not-applicable';
  event?: { type: string; description: string };
  action?: { code: string; description: string };
}

/** The volume ids a DescribeVolumeStatus request names, by VolumeId.N or by a volume-id filter. */
export function requestedVolumeIds(params: URLSearchParams): string[] {
  const ids: string[] = [];
  for (const [k, v] of params) {
    if (/^VolumeId\.\d+$/.test(k)) ids.push(v);
    const m = /^Filter\.(\d+)\.Value\.\d+$/.exec(k);
    if (m && params.get(`Filter.${m[1]}.Name`) === 'volume-id') ids.push(v);
  }
  return [...new Set(ids)];
}

function item(volumeId: string, o: VolumeStatusOverride): string {
  const details =
    `<item><name>io-enabled</name><status>${o.ioEnabled ?? 'passed'}</status></item>` +
    `<item><name>io-performance</name><status>${o.ioPerformance ?? 'not-applicable'}</status></item>`;
  const events = o.event
    ? `<eventsSet><item><eventId>evol-fault-proxy</eventId><eventType>${o.event.type}</eventType><description>${o.event.description}</description></item></eventsSet>`
    : '<eventsSet/>';
  const actions = o.action
    ? `<actionsSet><item><code>${o.action.code}</code><eventId>evol-fault-proxy</eventId><eventType>${o.event?.type ?? ''}</eventType><description>${o.action.description}</description></item></actionsSet>`
    : '<actionsSet/>';
  return `<item><volumeId>${volumeId}</volumeId><volumeStatus><status>${o.status}</status><details>${details}</details></volumeStatus>${events}${actions}</item>`;
}

/**
 * EC2's answer to DescribeVolumeStatus for the requested volumes: the
 * override where one is set, `ok` for the others (as EC2 reports a healthy
 * volume). With `existing` (the ids upstream knows), ids that do not exist
 * are left out, as EC2's volume-id filter leaves them out.
 */
export function describeVolumeStatusXml(params: URLSearchParams, overrides: Record<string, VolumeStatusOverride>, existing?: ReadonlySet<string>): string {
  const ids = requestedVolumeIds(params).filter((id) => !existing || existing.has(id));
  const items = (ids.length > 0 ? ids : Object.keys(overrides)).map((id) => item(id, overrides[id] ?? { status: 'ok' })).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeVolumeStatusResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fault-proxy</requestId><volumeStatusSet>${items}</volumeStatusSet></DescribeVolumeStatusResponse>`;
}

/** Rewrites the state of the given volumes in a DescribeVolumes answer (e.g. to `error`, which LocalStack never reports). */
export function overrideVolumeStates(xml: string, states: Record<string, string>): string {
  let out = xml;
  for (const it of topLevelItems(xml, 'volumeSet').reverse()) {
    const id = field(it.text, 'volumeId');
    const state = id ? states[id] : undefined;
    if (state) out = out.slice(0, it.start) + setOwnField(it.text, 'status', state) + out.slice(it.end);
  }
  return out;
}

/** The volume ids in a DescribeVolumes answer. */
export function volumeIdsOf(xml: string): Set<string> {
  return new Set(
    topLevelItems(xml, 'volumeSet')
      .map((it) => field(it.text, 'volumeId') ?? '')
      .filter(Boolean),
  );
}
