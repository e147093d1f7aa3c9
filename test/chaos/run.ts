/**
 * Crash and fault scenarios against the real controller, LocalStack (behind the
 * fault proxy) and real Redis, each ending with an audit of what the cloud and
 * Redis hold. Pass = 0 leaked, 0 duplicate volumes, 0 lost lifecycles.
 *
 *   node --conditions=plinth-src --import tsx test/chaos/run.ts [--quick]
 * Needs the stack's env (test/support/stack.ts); starts its own Redis for the Redis-restart scenario.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { ControllerClient } from '@plinth/csi';
import { AWS_LIKE_DELAYS } from '../fault-proxy/transitions.js';
import { startFaultProxy, type FaultConfig, type FaultProxy } from '../fault-proxy/proxy.js';
import { startController, type ControllerProcess } from '../support/controller.js';
import { ec2Of, freshRedis, uniqueCluster } from '../support/ec2.js';
import { requireStack } from '../support/stack.js';
import { audit, clean, type Audit } from './audit.js';
import { runLifecycles, type LifecycleStats } from './lifecycle.js';
import { OutageWatch } from './outage.js';
import { freePort, OwnRedis } from './redis.js';
import { SentinelTopology } from '../support/redis-servers.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true } } });
const Q = values.quick;
/** `--only <scenario>` (repeatable): run the baseline and just these. */
const want = (name: string) => !values.only || values.only.includes(name);
const stack = requireStack();
// Ctrl-C or SIGTERM still runs exit handlers, which stop the controllers started here.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
const ec2 = ec2Of(stack);

interface Result {
  scenario: string;
  lifecycles: number;
  stats: LifecycleStats;
  audit: Audit;
  ec2Calls: number;
  seconds: number;
}

/** Names of the volumes EC2 created, read off successful CreateVolume requests. */
function recordCreates(proxy: FaultProxy): string[] {
  const names: string[] = [];
  proxy.onAnswer = (action, params, ok) => {
    if (action !== 'CreateVolume' || !ok) return;
    for (const [k, v] of params) if (k.endsWith('.Key') && v === 'CSIVolumeName') names.push(params.get(k.replace(/Key$/, 'Value')) ?? '?');
  };
  return names;
}

async function scenario(
  name: string,
  n: number,
  c: number,
  faults: Partial<FaultConfig>,
  chaos: (ctx: {
    restart: () => Promise<void>;
    redis: OwnRedis | undefined;
    sentinel: SentinelTopology | undefined;
    proxy: FaultProxy;
    t0: number;
  }) => Promise<void>,
  opts: {
    ownRedis?: boolean;
    replica?: boolean;
    createFanout?: number;
    sentinel?: boolean;
    onCall?: (startedAt: number, endedAt: number, ok: boolean, code?: number) => void;
    /** Extra controller env (e.g. METRICS_ADDRESS, STUCK_ATTACH_TIMEOUT_MS). */
    env?: Record<string, string>;
    /** Called once the lifecycles are done, while the controller still runs (e.g. to scrape its metrics). */
    afterRun?: () => Promise<void>;
  } = {},
): Promise<Result> {
  const t0 = performance.now();
  const cluster = uniqueCluster(`chaos-${name}`);
  const proxy = await startFaultProxy(stack.ec2Endpoint, { transitions: AWS_LIKE_DELAYS, ...faults });
  const created = recordCreates(proxy);
  const own = opts.ownRedis ? new OwnRedis() : undefined;
  if (own) await own.start();
  const sentinel = opts.sentinel ? new SentinelTopology(`plinth-${name}`) : undefined;
  if (sentinel) await sentinel.start();
  const redisUrl = own ? own.url : sentinel ? undefined : await freshRedis(stack.redisUrl, 10);
  // With Sentinel the controller is given only the sentinels: it finds the primary, and the new one after a failover.
  const redisEnv: Record<string, string> = sentinel ? { REDIS_SENTINELS: sentinel.sentinelList, REDIS_SENTINEL_NAME: sentinel.name } : { REDIS_URL: redisUrl! };
  const env = {
    ...redisEnv,
    AWS_REGION: stack.region,
    EC2_ENDPOINT: proxy.endpoint,
    PLINTH_CLUSTER_ID: cluster,
    DEFAULT_ZONE: stack.zone,
    LOG_LEVEL: 'warn',
    QUEUE_LOCK_MS: '3000',
    EC2_RATE_LIMIT_DISABLED: 'true',
    EC2_POLL_INTERVAL_MS: '200',
    ...opts.env,
  };
  const endpoint = `unix://${join(mkdtempSync(join(tmpdir(), 'plinth-chaos-')), 'csi.sock')}`;
  let ctl: ControllerProcess = await startController(env, { endpoint });
  const replica = opts.replica ? await startController(env) : undefined;
  // One client for the whole run, as a sidecar has: it reconnects to the socket after each restart.
  const client = new ControllerClient(endpoint, credentials.createInsecure());
  const restart = async () => {
    const exited = new Promise((r) => ctl.child.once('exit', r));
    ctl.child.kill('SIGKILL');
    await exited;
    ctl = await startController(env, { endpoint });
  };
  const tRun = performance.now();
  const run = runLifecycles(() => client, `pvc-${cluster}`, stack.nodeId, n, c, {
    createFanout: opts.createFanout ?? 1,
    ...(opts.onCall ? { onCall: opts.onCall } : {}),
  });
  const chaosDone = chaos({ restart, redis: own, sentinel, proxy, t0: tRun }).catch((e: unknown) => console.error(`${name}: chaos step failed:`, e));
  const stats = await run;
  await chaosDone;
  await opts.afterRun?.();
  // Let any job still draining settle before auditing.
  await new Promise((r) => setTimeout(r, 1500));
  const auditUrl = sentinel ? await sentinel.primaryAddress().then((a) => `redis://${a.host}:${a.port}`) : redisUrl!;
  const result = {
    scenario: name,
    lifecycles: n,
    stats,
    audit: await audit(ec2, cluster, auditUrl, stack.nodeId, created),
    ec2Calls: proxy.total(),
    seconds: (performance.now() - t0) / 1000,
  };
  client.close();
  if (!clean(result.audit) || stats.lost.length > 0) keepLog(name, ctl.output());
  await ctl.stop();
  await replica?.stop();
  await proxy.close();
  await own?.stop();
  await sentinel?.stop();
  return result;
}

/** A failed scenario's controller output goes to test-results/chaos/, and its last warnings to the console, so a red CI run says what the controller saw. */
function keepLog(scenario: string, output: string): void {
  const dir = join(process.cwd(), 'test-results', 'chaos');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${scenario}-controller.log`);
  writeFileSync(file, output);
  const warnings = output.split('\n').filter((l) => /"level":(40|50|60)/.test(l) || l.startsWith('['));
  console.log(`${scenario}: the controller's output is in ${file}; its last warnings:`);
  for (const l of warnings.slice(-15)) console.log(`  ${l.slice(0, 400)}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const N = Q ? 30 : 200;
const C = Q ? 10 : 20;
const KILLS = Q ? 3 : 10;

const killAtRandom =
  (span: number) =>
  async ({ restart }: { restart: () => Promise<void> }) => {
    const moments = Array.from({ length: KILLS }, () => Math.random() * span).sort((a, b) => a - b);
    let t = 0;
    for (const m of moments) {
      await sleep(m - t);
      t = m;
      await restart();
    }
  };

const results: Result[] = [];
const baseline = await scenario('baseline', N, C, {}, () => Promise.resolve());
results.push(baseline);
const span = baseline.seconds * 1000 * 0.8;
if (want('kill-9')) results.push(await scenario('kill-9', N, C, {}, killAtRandom(span)));
if (!Q && want('kill-9+replica')) results.push(await scenario('kill-9+replica', N, C, {}, killAtRandom(span), { replica: true }));
if (want('redis-restart'))
  results.push(
    await scenario(
      'redis-restart',
      Q ? 20 : 100,
      C,
      {},
      async ({ redis }) => {
        await sleep(span / 3);
        await redis!.restart();
      },
      { ownRedis: true },
    ),
  );
// Sentinel failover: kill -9 the primary mid-run; the sentinels promote the replica and the controller follows.
const failover = { killedAt: 0, promotedMs: 0, firstOkAfterKill: Infinity, errorsAfterKill: 0 };
if (want('sentinel-failover'))
  results.push(
    await scenario(
      'sentinel-failover',
      Q ? 20 : 100,
      C,
      {},
      async ({ sentinel, t0 }) => {
        await sleep(span / 3);
        failover.killedAt = performance.now();
        await sentinel!.primary.kill9();
        failover.promotedMs = await sentinel!.waitForPromotion();
        console.log(
          `sentinel-failover: primary killed ${((failover.killedAt - t0) / 1000).toFixed(1)} s into the run; sentinels promoted the replica after ${(failover.promotedMs / 1000).toFixed(1)} s`,
        );
      },
      {
        sentinel: true,
        onCall: (startedAt, endedAt, ok) => {
          if (!failover.killedAt || endedAt < failover.killedAt) return;
          if (ok && startedAt >= failover.killedAt) failover.firstOkAfterKill = Math.min(failover.firstOkAfterKill, endedAt - failover.killedAt);
          if (!ok) failover.errorsAfterKill += 1;
        },
      },
    ),
  );
// Outages: EC2 (the endpoint stops answering, as a stopped LocalStack) and Redis (redis-server stopped) for
// OUTAGE_MS mid-run. kubelet's probes are played every second: liveness must hold, readiness must see it.
const OUTAGE_MS = Q ? 15_000 : 60_000;
const outages: { name: string; watch: OutageWatch }[] = [];
if (want('ec2-outage')) {
  const port = await freePort();
  const watch = new OutageWatch(port);
  outages.push({ name: 'ec2-outage', watch });
  results.push(
    await scenario(
      'ec2-outage',
      Q ? 20 : 100,
      C,
      {},
      async ({ proxy }) => {
        await sleep(span / 3);
        await watch.outage(
          OUTAGE_MS,
          () => proxy.down(),
          () => proxy.up(),
        );
      },
      { env: { METRICS_ADDRESS: `127.0.0.1:${port}` }, onCall: watch.onCall },
    ),
  );
}
if (want('redis-outage')) {
  const port = await freePort();
  const watch = new OutageWatch(port);
  outages.push({ name: 'redis-outage', watch });
  results.push(
    await scenario(
      'redis-outage',
      Q ? 20 : 100,
      C,
      {},
      async ({ redis }) => {
        await sleep(span / 3);
        await watch.outage(
          OUTAGE_MS,
          () => redis!.stop(),
          () => redis!.start(),
        );
      },
      { ownRedis: true, env: { METRICS_ADDRESS: `127.0.0.1:${port}` }, onCall: watch.onCall },
    ),
  );
}
// Stuck attachments: a share of attachments stays `attaching` (the fault proxy) until Plinth force-detaches it
// past STUCK_ATTACH_TIMEOUT_MS and attaches again; every publish must still finish, each stuck one force-detached once.
const stuckAttach = { stuck: 0, forceDetaches: 0, metric: NaN };
if (want('stuck-attach')) {
  const port = await freePort();
  let proxyRef: FaultProxy | undefined;
  results.push(
    await scenario(
      'stuck-attach',
      Q ? 20 : 100,
      C,
      { stickAttach: 0.3 },
      ({ proxy }) => {
        proxyRef = proxy;
        return Promise.resolve();
      },
      {
        env: { METRICS_ADDRESS: `127.0.0.1:${port}`, STUCK_ATTACH_TIMEOUT_MS: '5000' },
        afterRun: async () => {
          stuckAttach.stuck = proxyRef?.stuck.count ?? 0;
          stuckAttach.forceDetaches = proxyRef?.stuck.forceDetaches ?? 0;
          const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
          stuckAttach.metric = Number(/^plinth_stuck_attachments_total (\d+)/m.exec(text)?.[1] ?? NaN);
        },
      },
    ),
  );
}
if (want('ec2-faults'))
  results.push(await scenario('ec2-faults', Q ? 20 : 100, C, { faults: { throttle: 0.2, error5xx: 0.05, reset: 0.01 } }, () => Promise.resolve()));
// 20 identical concurrent CreateVolume calls for each name.
if (want('create-burst')) results.push(await scenario('create-burst', Q ? 5 : 50, Q ? 5 : 10, {}, () => Promise.resolve(), { createFanout: 20 }));

const perLifecycle = (r: Result) => r.ec2Calls / r.lifecycles;
console.log('\nscenario         lifecycles finished lost leaked dup orphan devs  EC2/lifecycle  amplification  seconds  retries');
for (const r of results) {
  console.log(
    `${r.scenario.padEnd(16)} ${String(r.lifecycles).padStart(10)} ${String(r.stats.finished).padStart(8)} ${String(r.stats.lost.length).padStart(4)} ${String(r.audit.leaked.length).padStart(6)} ${String(r.audit.duplicates.length).padStart(3)} ${String(r.audit.orphanAttachments.length).padStart(6)} ${String(r.audit.leakedDeviceNames).padStart(4)} ${perLifecycle(r).toFixed(2).padStart(14)} ${(perLifecycle(r) / perLifecycle(baseline)).toFixed(2).padStart(14)} ${r.seconds.toFixed(0).padStart(8)}  ${JSON.stringify(r.stats.retriesByCode)}`,
  );
  for (const l of r.stats.lost.slice(0, 3)) console.log(`  lost ${l.name}: ${l.error}`);
  for (const l of r.audit.leaked.slice(0, 3)) console.log(`  leaked ${l}`);
}
const sf = results.find((r) => r.scenario === 'sentinel-failover');
if (sf)
  console.log(
    `\nsentinel-failover: time to recover ${(failover.firstOkAfterKill / 1000).toFixed(1)} s (kill -9 of the primary → first RPC started after it succeeding; promotion alone ${(failover.promotedMs / 1000).toFixed(1)} s); ` +
      `RPC errors seen by callers after the kill: ${failover.errorsAfterKill} ${JSON.stringify(sf.stats.retriesByCode)}; EC2 calls per lifecycle ${perLifecycle(sf).toFixed(2)} (amplification ${(perLifecycle(sf) / perLifecycle(baseline)).toFixed(2)} against the baseline)`,
  );
for (const o of outages) console.log(o.watch.summary(o.name));
const sa = results.find((r) => r.scenario === 'stuck-attach');
if (sa)
  console.log(
    `stuck-attach: ${stuckAttach.stuck} attachments stuck in attaching, ${stuckAttach.forceDetaches} force detaches, plinth_stuck_attachments_total ${stuckAttach.metric}; ${sa.stats.finished}/${sa.lifecycles} publishes finished`,
  );
const failed = results.filter((r) => !clean(r.audit) || r.stats.lost.length > 0);
// A failover that never happened proves nothing: the scenario fails unless the sentinels promoted the replica.
if (sf && failover.promotedMs === 0) {
  console.log('sentinel-failover: the primary was not killed and replaced during the run');
  failed.push(sf);
}
// An outage that readiness never saw proves nothing; a liveness failure would have had kubelet restart a healthy pod.
for (const o of outages) {
  const r = results.find((x) => x.scenario === o.name);
  if (r && !o.watch.held && !failed.includes(r)) {
    console.log(`${o.name}: ${o.watch.readiness503 === 0 ? '/readyz never reported the outage' : '/healthz failed during the outage'}`);
    failed.push(r);
  }
}
// Stuck attachments that were never stuck, or not each freed by one force detach (and counted), prove nothing.
if (sa && (stuckAttach.stuck === 0 || stuckAttach.forceDetaches !== stuckAttach.stuck || stuckAttach.metric !== stuckAttach.stuck) && !failed.includes(sa)) {
  console.log('stuck-attach: the stuck attachments, the force detaches and the metric do not agree');
  failed.push(sa);
}
const total = results.length;
console.log(`\nchaos: ${total - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
