/**
 * Soak: volume lifecycles (CreateVolume → ControllerPublish → ControllerUnpublish → DeleteVolume) run without
 * pause for `--minutes` through the real controller behind the EC2 fault proxy (EC2-like delays), on loopback.
 * Every `--every` seconds it prints the controller's RSS, Redis memory, key count and job records; at the end
 * a verdict comparing the last third of the samples with the first third after warm-up, and the chaos audit
 * (nothing of the run left in EC2 or Redis).
 *
 *   npm run soak -- --minutes 30            (node scripts/run.mjs soak: starts a throwaway stack)
 *   node --conditions=plinth-src --import tsx test/soak/run.ts --minutes 2 --every 15   (with a stack's env)
 *
 * Figures are printed, not asserted, except: a lost lifecycle or an unclean audit exits 1.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { ControllerClient } from '@plinth/csi';
import { Jobs } from '@plinth/queue';
import { Redis } from 'ioredis';
import { audit, clean } from '../chaos/audit.js';
import { runLifecycles } from '../chaos/lifecycle.js';
import { startFaultProxy } from '../fault-proxy/proxy.js';
import { AWS_LIKE_DELAYS } from '../fault-proxy/transitions.js';
import { startController } from '../support/controller.js';
import { ec2Of, freshRedis, uniqueCluster } from '../support/ec2.js';
import { requireStack } from '../support/stack.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    every: { type: 'string', default: '60' },
    c: { type: 'string', default: '10' },
  },
});
const minutes = Number(values.minutes);
const every = Number(values.every);
const C = Number(values.c);
if (!(minutes > 0 && minutes <= 240)) throw new Error(`--minutes must be in (0, 240], got ${values.minutes}`);
if (!(every >= 5 && every <= 600)) throw new Error(`--every must be 5–600 seconds, got ${values.every}`);
if (!(Number.isInteger(C) && C >= 1 && C <= 100)) throw new Error(`--c must be 1–100, got ${values.c}`);

const stack = requireStack();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
const ec2 = ec2Of(stack);
const cluster = uniqueCluster('soak');
const proxy = await startFaultProxy(stack.ec2Endpoint, { transitions: AWS_LIKE_DELAYS });
const created: string[] = [];
proxy.onAnswer = (action, params, ok) => {
  if (action !== 'CreateVolume' || !ok) return;
  for (const [k, v] of params) if (k.endsWith('.Key') && v === 'CSIVolumeName') created.push(params.get(k.replace(/Key$/, 'Value')) ?? '?');
};
const redisUrl = await freshRedis(stack.redisUrl, 8);
const env = {
  REDIS_URL: redisUrl,
  AWS_REGION: stack.region,
  EC2_ENDPOINT: proxy.endpoint,
  PLINTH_CLUSTER_ID: cluster,
  DEFAULT_ZONE: stack.zone,
  LOG_LEVEL: 'warn',
  EC2_RATE_LIMIT_DISABLED: 'true',
  EC2_POLL_INTERVAL_MS: '500',
};
const endpoint = `unix://${join(mkdtempSync(join(tmpdir(), 'plinth-soak-')), 'csi.sock')}`;
const ctl = await startController(env, { endpoint });
const client = new ControllerClient(endpoint, credentials.createInsecure());
const redis = new Redis(redisUrl);
const jobs = new Jobs({ redisUrl });

interface Sample {
  t: number;
  lifecycles: number;
  lost: number;
  rssMiB: number;
  redisMiB: number;
  keys: number;
  jobRecords: number;
  ec2Calls: number;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const totals = { finished: 0, lost: [] as { name: string; error: string }[], retries: {} as Record<string, number> };
async function sample(t0: number): Promise<Sample> {
  const mem = await redis.info('memory');
  const used = Number(/used_memory:(\d+)/.exec(mem)?.[1] ?? NaN) / 1024 / 1024;
  const counts = await jobs.counts();
  return {
    t: (performance.now() - t0) / 1000,
    lifecycles: totals.finished,
    lost: totals.lost.length,
    rssMiB: rssMiB(ctl.child.pid!),
    redisMiB: used,
    keys: await redis.dbsize(),
    jobRecords: Object.values(counts).reduce((a, b) => a + b, 0),
    ec2Calls: proxy.total(),
  };
}

const pad = (v: string | number, n: number) => String(v).padStart(n);
const header = '   min  lifecycles  lost  ctl RSS MiB  redis MiB   keys  job records  EC2 calls';
const row = (s: Sample) =>
  `${pad((s.t / 60).toFixed(1), 6)}  ${pad(s.lifecycles, 10)}  ${pad(s.lost, 4)}  ${pad(s.rssMiB.toFixed(1), 11)}  ${pad(s.redisMiB.toFixed(2), 9)}  ${pad(s.keys, 5)}  ${pad(s.jobRecords, 11)}  ${pad(s.ec2Calls, 9)}`;

console.log(
  `soak: ${minutes} min of lifecycles at concurrency ${C} through the controller behind the EC2 fault proxy (EC2-like delays); a sample every ${every} s`,
);
console.log(header);
const t0 = performance.now();
const until = t0 + minutes * 60_000;
const samples: Sample[] = [await sample(t0)];
console.log(row(samples[0]!));
const timer = setInterval(() => {
  void sample(t0).then((s) => {
    samples.push(s);
    console.log(row(s));
  });
}, every * 1000);

let batch = 0;
while (performance.now() < until) {
  const stats = await runLifecycles(() => client, `pvc-${cluster}-b${batch++}`, stack.nodeId, C * 2, C, { deadlineMs: 300_000 });
  totals.finished += stats.finished;
  totals.lost.push(...stats.lost);
  for (const [k, v] of Object.entries(stats.retriesByCode)) totals.retries[k] = (totals.retries[k] ?? 0) + v;
}
clearInterval(timer);
const last = await sample(t0);
samples.push(last);
console.log(row(last));

// Warm-up: until the queue's history is full (the first sample with HISTORY_CAP job records: Operations keeps at most
// 2,000 completed jobs, so Redis fills up to that by design), and at least the first 10 % of the run. Then first
// third vs last third of the rest. A leak still shows: whatever grows after the cap is in the comparison.
const HISTORY_CAP = 2000;
const capReached = samples.find((s) => s.jobRecords >= HISTORY_CAP)?.t ?? 0;
const steady = samples.filter((s) => s.t >= Math.max(minutes * 6, 1, capReached));
const third = Math.max(1, Math.floor(steady.length / 3));
const mean = (xs: Sample[], f: (s: Sample) => number) => xs.reduce((a, s) => a + f(s), 0) / xs.length;
const first = steady.slice(0, third);
const tail = steady.slice(-third);
const metrics: [string, (s: Sample) => number, number][] = [
  ['controller RSS', (s) => s.rssMiB, 0.15],
  ['Redis memory', (s) => s.redisMiB, 0.15],
  ['Redis keys', (s) => s.keys, 0.15],
  ['job records', (s) => s.jobRecords, 0.15],
];
const growth = metrics.map(([name, f, limit]) => {
  const a = mean(first, f);
  const b = mean(tail, f);
  const g = a > 0 ? (b - a) / a : 0;
  return { name, a, b, g, over: g > limit };
});
const minutesRun = (last.t / 60).toFixed(1);
const rate = (totals.finished / (last.t / 60)).toFixed(1);
console.log(
  `\nsoak: ${totals.finished} lifecycles in ${minutesRun} min (${rate}/min), ${totals.lost.length} lost, retries by code ${JSON.stringify(totals.retries)}, ${last.ec2Calls} EC2 calls (${(last.ec2Calls / Math.max(1, totals.finished)).toFixed(2)} per lifecycle)`,
);
for (const l of totals.lost.slice(0, 5)) console.log(`  lost ${l.name}: ${l.error}`);
const growing = growth.filter((g) => g.over);
const verdictParts = growth.map(
  (g) =>
    `${g.name} ${g.a.toFixed(g.name === 'controller RSS' || g.name === 'Redis memory' ? 1 : 0)}→${g.b.toFixed(g.name === 'controller RSS' || g.name === 'Redis memory' ? 1 : 0)} (${g.g >= 0 ? '+' : ''}${(g.g * 100).toFixed(1)}%)`,
);
const enough = steady.length >= 3;
console.log(
  `soak verdict: ${!enough ? 'TOO SHORT to judge (fewer than 3 samples after warm-up)' : growing.length ? `GROWING (${growing.map((g) => g.name).join(', ')} up more than 15%)` : 'STEADY'}: last third vs first third after warm-up (${steady.length} samples from minute ${((steady[0]?.t ?? 0) / 60).toFixed(1)}): ${verdictParts.join(', ')}`,
);

client.close();
await ctl.stop();
await new Promise((r) => setTimeout(r, 1500));
const a = await audit(ec2, cluster, redisUrl, stack.nodeId, created);
console.log(
  `soak audit: ${a.leaked.length} leaked, ${a.duplicates.length} duplicate, ${a.orphanAttachments.length} orphaned attachments, ${a.leakedDeviceNames} device names left`,
);
await jobs.close();
redis.disconnect();
await proxy.close();
process.exit(totals.lost.length > 0 || !clean(a) ? 1 : 0);
