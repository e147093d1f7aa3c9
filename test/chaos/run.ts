/**
 * Crash and fault scenarios against the real controller, LocalStack (behind the
 * fault proxy) and real Redis, each ending with an audit of what the cloud and
 * Redis hold. Pass = 0 leaked, 0 duplicate volumes, 0 lost lifecycles.
 *
 *   node --conditions=plinth-src --import tsx test/chaos/run.ts [--quick]
 * Needs the stack's env (test/support/stack.ts); starts its own Redis for the Redis-restart scenario.
 */
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
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
import { OwnRedis } from './redis.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const Q = values.quick;
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
  chaos: (ctx: { restart: () => Promise<void>; redis: OwnRedis | undefined }) => Promise<void>,
  opts: { ownRedis?: boolean; replica?: boolean; createFanout?: number } = {},
): Promise<Result> {
  const t0 = performance.now();
  const cluster = uniqueCluster(`chaos-${name}`);
  const proxy = await startFaultProxy(stack.ec2Endpoint, { transitions: AWS_LIKE_DELAYS, ...faults });
  const created = recordCreates(proxy);
  const own = opts.ownRedis ? new OwnRedis() : undefined;
  if (own) await own.start();
  const redisUrl = own ? own.url : await freshRedis(stack.redisUrl, 10);
  const env = { REDIS_URL: redisUrl, AWS_REGION: stack.region, EC2_ENDPOINT: proxy.endpoint, PLINTH_CLUSTER_ID: cluster, DEFAULT_ZONE: stack.zone, LOG_LEVEL: 'warn', QUEUE_LOCK_MS: '3000', EC2_RATE_LIMIT_DISABLED: 'true', EC2_POLL_INTERVAL_MS: '200' };
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
  const run = runLifecycles(() => client, `pvc-${cluster}`, stack.nodeId, n, c, { createFanout: opts.createFanout ?? 1 });
  const chaosDone = chaos({ restart, redis: own }).catch((e: unknown) => console.error(`${name}: chaos step failed:`, e));
  const stats = await run;
  await chaosDone;
  // Let any job still draining settle before auditing.
  await new Promise((r) => setTimeout(r, 1500));
  const result = { scenario: name, lifecycles: n, stats, audit: await audit(ec2, cluster, redisUrl, stack.nodeId, created), ec2Calls: proxy.total(), seconds: (performance.now() - t0) / 1000 };
  client.close();
  await ctl.stop();
  await replica?.stop();
  await proxy.close();
  await own?.stop();
  return result;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const N = Q ? 30 : 200;
const C = Q ? 10 : 20;
const KILLS = Q ? 3 : 10;

const killAtRandom = (span: number) => async ({ restart }: { restart: () => Promise<void> }) => {
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
results.push(await scenario('kill-9', N, C, {}, killAtRandom(span)));
if (!Q) results.push(await scenario('kill-9+replica', N, C, {}, killAtRandom(span), { replica: true }));
results.push(
  await scenario('redis-restart', Q ? 20 : 100, C, {}, async ({ redis }) => {
    await sleep(span / 3);
    await redis!.restart();
  }, { ownRedis: true }),
);
results.push(await scenario('ec2-faults', Q ? 20 : 100, C, { faults: { throttle: 0.2, error5xx: 0.05, reset: 0.01 } }, () => Promise.resolve()));
// 20 identical concurrent CreateVolume calls for each name.
results.push(await scenario('create-burst', Q ? 5 : 50, Q ? 5 : 10, {}, () => Promise.resolve(), { createFanout: 20 }));

const perLifecycle = (r: Result) => r.ec2Calls / r.lifecycles;
console.log('\nscenario         lifecycles finished lost leaked dup orphan devs  EC2/lifecycle  amplification  seconds  retries');
for (const r of results) {
  console.log(
    `${r.scenario.padEnd(16)} ${String(r.lifecycles).padStart(10)} ${String(r.stats.finished).padStart(8)} ${String(r.stats.lost.length).padStart(4)} ${String(r.audit.leaked.length).padStart(6)} ${String(r.audit.duplicates.length).padStart(3)} ${String(r.audit.orphanAttachments.length).padStart(6)} ${String(r.audit.leakedDeviceNames).padStart(4)} ${perLifecycle(r).toFixed(2).padStart(14)} ${(perLifecycle(r) / perLifecycle(baseline)).toFixed(2).padStart(14)} ${r.seconds.toFixed(0).padStart(8)}  ${JSON.stringify(r.stats.retriesByCode)}`,
  );
  for (const l of r.stats.lost.slice(0, 3)) console.log(`  lost ${l.name}: ${l.error}`);
  for (const l of r.audit.leaked.slice(0, 3)) console.log(`  leaked ${l}`);
}
const failed = results.filter((r) => !clean(r.audit) || r.stats.lost.length > 0);
const total = results.length;
console.log(`\nchaos: ${total - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
