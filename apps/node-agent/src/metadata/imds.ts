import type { SourceResult } from './types.js';

export interface ImdsOptions {
  endpoint: string;
  timeoutMs: number;
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname} answered HTTP ${res.status}`);
  return (await res.text()).trim();
}

/** IMDSv2: a session token first (PUT), then the metadata with it. The token is never logged. */
export async function fromImds(opts: ImdsOptions): Promise<SourceResult> {
  const base = opts.endpoint.replace(/\/+$/, '');
  try {
    const token = await call(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '300' } }, opts.timeoutMs);
    const get = (p: string) => call(`${base}/latest/meta-data/${p}`, { headers: { 'X-aws-ec2-metadata-token': token } }, opts.timeoutMs);
    const [instanceId, zone, instanceType] = await Promise.all([get('instance-id'), get('placement/availability-zone'), get('instance-type')]);
    if (!instanceId || !zone) return { skipped: `IMDS at ${base} answered without an instance id or zone` };
    return { ok: { source: 'imds', instanceId, zone, instanceType: instanceType || undefined } };
  } catch (err) {
    const e = err as Error;
    const why = e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : e.message;
    return { skipped: `IMDS at ${base}: ${why}` };
  }
}
