import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { categoryOf, EC2_BUCKETS, TokenBucket, type BucketConfig, type Category } from './buckets.js';
import { AWS_LIKE_DELAYS, Transitions, type TransitionDelays } from './transitions.js';
import { AttachGuard } from './attach-guard.js';
import { describeVolumeStatusXml, overrideVolumeStates, requestedVolumeIds, volumeIdsOf, type VolumeStatusOverride } from './volume-status.js';
import { StuckAttachments } from './stuck.js';
import { CopyDelays } from './snapshot-copies.js';
import { errorXml } from './xml.js';

export interface FaultConfig {
  /** Added before forwarding, per action ('*' for all others). */
  latencyMs: Record<string, number>;
  /** Answer held back after the upstream replied, per action (to widen crash windows). */
  delayResponse: Record<string, number>;
  /** In-between states after state changes; false: LocalStack's instant changes. */
  transitions: TransitionDelays | false;
  /** EC2's request token buckets; false: no throttling. */
  buckets: Record<Category, BucketConfig> | false;
  /** Probabilities, each 0..1, of injecting a fault instead of forwarding. */
  faults: { error5xx: number; reset: number; throttle: number };
  /** DescribeVolumeStatus answered by the proxy as EC2 would (these volumes as given, every other one `ok`); false: forwarded. */
  volumeStatus: Record<string, VolumeStatusOverride> | false;
  /** Volume states DescribeVolumes reports instead of the upstream's (e.g. `error`). */
  volumeState: Record<string, string>;
  /**
   * EC2's per-volume modification limit, which LocalStack does not enforce: a
   * ModifyVolume within this many ms of the volume's last one is refused with
   * VolumeModificationRateExceeded, as EC2 refuses one within 6 hours. 0: off.
   */
  modifyCooldownMs: number;
  /** Share (0..1) of successful attachments that stick in `attaching` until a DetachVolume (see stuck.ts). */
  stickAttach: number;
  /** How long a snapshot copy (CopySnapshot) stays `pending` in DescribeSnapshots (LocalStack completes it at once); 0: as upstream. */
  copyMs: number;
}

type Outcome = 'ok' | 'error' | 'throttled' | 'refused' | 'injected5xx' | 'injectedReset' | 'injectedThrottle';

export const PASS_THROUGH: FaultConfig = {
  latencyMs: {},
  delayResponse: {},
  transitions: false,
  buckets: false,
  faults: { error5xx: 0, reset: 0, throttle: 0 },
  volumeStatus: false,
  volumeState: {},
  modifyCooldownMs: 0,
  stickAttach: 0,
  copyMs: 0,
};
/** What `npm run bench` uses: real-AWS-like state delays and EC2's buckets. */
export const EC2_LIKE: FaultConfig = { ...PASS_THROUGH, transitions: AWS_LIKE_DELAYS, buckets: EC2_BUCKETS };

export interface FaultProxy {
  endpoint: string;
  config: FaultConfig;
  /** Requests received, by action (every outcome). */
  calls: Map<string, number>;
  /** Requests by action and outcome. */
  outcomes: Map<string, Map<Outcome, number>>;
  /** The attachments made to stick (config.stickAttach) and the force detaches that freed them. */
  stuck: StuckAttachments;
  configure(partial: Partial<FaultConfig>): void;
  onForward: ((action: string) => void) | undefined;
  /** Called with each upstream answer (after faults, before any held-back delay). */
  onAnswer: ((action: string, params: URLSearchParams, ok: boolean) => void) | undefined;
  total(): number;
  /**
   * An EC2 outage as a stopped endpoint looks: stops listening and drops every open connection, so callers
   * get ECONNREFUSED / ECONNRESET (as when LocalStack is stopped) until `up()` listens again on the same port.
   */
  down(): Promise<void>;
  up(): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

/**
 * DescribeVolumes of `ids` (volume-id filter) asked of the upstream directly, with the caller's headers (LocalStack reads
 * the region from them); not counted, not faulted. Its XML answer.
 */
function describeUpstream(target: URL, headers: IncomingMessage['headers'], ids: string[]): Promise<string> {
  const body = new URLSearchParams({ Action: 'DescribeVolumes', Version: '2016-11-15', 'Filter.1.Name': 'volume-id' });
  ids.forEach((id, i) => body.set(`Filter.1.Value.${i + 1}`, id));
  const text = body.toString();
  return new Promise((resolve, reject) => {
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: '/',
        headers: { ...headers, host: target.host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(text) },
      },
      (upRes) => void readBody(upRes).then((b) => resolve(b.toString('utf8')), reject),
    );
    up.on('error', reject);
    up.end(text);
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/**
 * An HTTP proxy in front of LocalStack's EC2 that behaves more like EC2:
 * per-action latency, in-between states after state changes, EC2's request
 * token buckets (RequestLimitExceeded), and injected 5xx / connection resets /
 * throttling at given probabilities. It counts every call by action and
 * outcome. Configure it in code, or over HTTP: GET /__proxy/stats,
 * POST /__proxy/config (JSON, merged), POST /__proxy/reset.
 */
export async function startFaultProxy(upstream: string, initial: Partial<FaultConfig> = {}, port = 0): Promise<FaultProxy> {
  const target = new URL(upstream);
  const existingVolumes = async (headers: IncomingMessage['headers'], ids: string[]) => volumeIdsOf(await describeUpstream(target, headers, ids));
  const attachGuard = new AttachGuard();
  const config: FaultConfig = { ...PASS_THROUGH, volumeState: {}, ...initial };
  const calls = new Map<string, number>();
  const outcomes = new Map<string, Map<Outcome, number>>();
  let transitions = new Transitions(config.transitions || AWS_LIKE_DELAYS);
  let buckets = new Map<Category, TokenBucket>();
  /** When each volume's last ModifyVolume succeeded. */
  const lastModified = new Map<string, number>();
  const stuck = new StuckAttachments();
  const copies = new CopyDelays(config.copyMs);

  const count = (action: string, outcome: Outcome) => {
    const m = outcomes.get(action) ?? new Map<Outcome, number>();
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
    outcomes.set(action, m);
  };
  const reply = (res: ServerResponse, statusCode: number, body: string): void =>
    void res.writeHead(statusCode, { 'content-type': 'text/xml;charset=UTF-8' }).end(body);

  const proxy: FaultProxy = {
    endpoint: '',
    config,
    calls,
    outcomes,
    stuck,
    onForward: undefined,
    onAnswer: undefined,
    configure(partial) {
      Object.assign(config, partial);
      if (partial.transitions !== undefined) transitions = new Transitions(config.transitions || AWS_LIKE_DELAYS);
      if (partial.buckets !== undefined) buckets = new Map();
      if (partial.copyMs !== undefined) copies.copyMs = partial.copyMs;
    },
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    down: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    up: () => new Promise<void>((resolve) => server.listen(Number(new URL(proxy.endpoint).port), '127.0.0.1', resolve)),
    reset() {
      calls.clear();
      outcomes.clear();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const admin = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET' && req.url === '/__proxy/stats') {
      const body = Object.fromEntries([...outcomes].map(([a, m]) => [a, Object.fromEntries(m)]));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else if (req.method === 'POST' && req.url === '/__proxy/config') {
      proxy.configure(JSON.parse((await readBody(req)).toString('utf8')) as Partial<FaultConfig>);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config));
    } else if (req.method === 'POST' && req.url === '/__proxy/reset') {
      proxy.reset();
      res.writeHead(204).end();
    } else res.writeHead(404).end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.url?.startsWith('/__proxy/')) return admin(req, res);
    const body = await readBody(req);
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? 'Unknown';
    calls.set(action, (calls.get(action) ?? 0) + 1);
    await sleep(config.latencyMs[action] ?? config.latencyMs['*'] ?? 0);

    const f = config.faults;
    const roll = Math.random();
    if (roll < f.reset) {
      count(action, 'injectedReset');
      req.socket.destroy();
      return;
    }
    if (roll < f.reset + f.error5xx) {
      count(action, 'injected5xx');
      return reply(res, 500, errorXml('InternalError', 'An internal error has occurred (injected).'));
    }
    if (roll < f.reset + f.error5xx + f.throttle) {
      count(action, 'injectedThrottle');
      return reply(res, 503, errorXml('RequestLimitExceeded', 'Request limit exceeded (injected).'));
    }
    if (config.buckets) {
      const cat = categoryOf(action, params);
      let bucket = buckets.get(cat);
      if (!bucket) buckets.set(cat, (bucket = new TokenBucket(config.buckets[cat])));
      if (!bucket.take()) {
        count(action, 'throttled');
        return reply(res, 503, errorXml('RequestLimitExceeded', 'Request limit exceeded.'));
      }
    }
    const modified = action === 'ModifyVolume' ? lastModified.get(params.get('VolumeId') ?? '') : undefined;
    if (config.modifyCooldownMs > 0 && modified !== undefined && Date.now() - modified < config.modifyCooldownMs) {
      count(action, 'refused');
      return reply(
        res,
        400,
        errorXml(
          'VolumeModificationRateExceeded',
          "You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.",
        ),
      );
    }
    if (config.transitions) {
      const no = transitions.refusal(action, params);
      if (no) {
        count(action, 'refused');
        return reply(res, 400, errorXml(no.code, no.message));
      }
    }

    if (action === 'DescribeVolumeStatus' && config.volumeStatus) {
      const overrides = config.volumeStatus;
      // Only volumes that exist upstream are answered for, as EC2's volume-id filter does.
      const ids = requestedVolumeIds(params);
      const existing = ids.length > 0 ? await existingVolumes(req.headers, ids) : undefined;
      count(action, 'ok');
      return reply(res, 200, describeVolumeStatusXml(params, overrides, existing));
    }

    // moto moves an attached volume to whichever instance asks next; EC2 refuses (VolumeInUse).
    const attach = action === 'AttachVolume' ? { volumeId: params.get('VolumeId') ?? '', instanceId: params.get('InstanceId') ?? '' } : undefined;
    if (attach) {
      const no = attachGuard.check(attach.volumeId, attach.instanceId, await describeUpstream(target, req.headers, [attach.volumeId]));
      if (no) {
        count(action, 'refused');
        return reply(res, 400, errorXml(no.code, no.message));
      }
    }
    const settled = () => {
      if (attach) attachGuard.settled(attach.volumeId, attach.instanceId);
    };
    if (action === 'DetachVolume') stuck.detaching(params.get('VolumeId') ?? '', params.get('Force') === 'true');
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (upRes) => {
        void readBody(upRes).then(async (upBody) => {
          const statusCode = upRes.statusCode ?? 502;
          settled();
          let text = upBody.toString('utf8');
          if (config.transitions && statusCode < 300) {
            if (action === 'DescribeVolumes') text = transitions.rewriteDescribeVolumes(text);
            else if (action === 'DescribeVolumesModifications') text = transitions.rewriteDescribeModifications(text);
            else {
              transitions.observe(action, params, text);
              text = transitions.rewriteAnswer(action, text);
            }
          }
          if (action === 'DescribeVolumes' && statusCode < 300) text = stuck.rewriteDescribeVolumes(overrideVolumeStates(text, config.volumeState));
          if (action === 'CopySnapshot' && statusCode < 300) copies.observe(text);
          if (action === 'DescribeSnapshots' && statusCode < 300) text = copies.rewriteDescribeSnapshots(text);
          if (action === 'AttachVolume' && statusCode < 300) stuck.attached(params.get('VolumeId') ?? '', config.stickAttach);
          count(action, statusCode < 300 ? 'ok' : 'error');
          if (action === 'ModifyVolume' && statusCode < 300) lastModified.set(params.get('VolumeId') ?? '', Date.now());
          proxy.onAnswer?.(action, params, statusCode < 300);
          await sleep(config.delayResponse[action] ?? 0);
          const headers = { ...upRes.headers };
          delete headers['content-length'];
          res.writeHead(statusCode, headers).end(text);
        });
      },
    );
    up.on('error', () => {
      settled();
      count(action, 'error');
      if (!res.headersSent) reply(res, 502, errorXml('ServiceUnavailable', 'upstream unreachable'));
    });
    up.end(body);
    proxy.onForward?.(action);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
