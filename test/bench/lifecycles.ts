/**
 * N volume lifecycles (CreateVolume → ControllerPublish → ControllerUnpublish →
 * DeleteVolume) at concurrency C through the controller's real gRPC socket,
 * as the CSI sidecars would drive it, against the stack in the environment
 * (see test/support/stack.ts) behind the EC2 fault proxy with EC2-like state
 * delays and request buckets. Prints one table per N and writes the figures
 * to bench-results/<run>.json.
 *
 *   node --conditions=plinth-src --import tsx test/bench/lifecycles.ts [--n 10,100,1000] [--c 50] [--quick] [--ec2 ec2-like|instant]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { callUnary, VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';
import { Redis } from 'ioredis';
import { EC2_LIKE, PASS_THROUGH, startFaultProxy } from '../fault-proxy/proxy.js';
import { AWS_LIKE_DELAYS } from '../fault-proxy/transitions.js';
import { startController } from '../support/controller.js';
import { freshRedis, uniqueCluster } from '../support/ec2.js';
import { requireStack } from '../support/stack.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '10,100,1000' },
    c: { type: 'string', default: '50' },
    quick: { type: 'boolean', default: false },
    ec2: { type: 'string', default: 'ec2-like' },
  },
});
const sizes = values.quick ? [10] : values.n.split(',').map(Number);
const C = Number(values.c);
const stack = requireStack();
// Ctrl-C or SIGTERM still runs exit handlers, which stop the controllers started here.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
const cap: VolumeCapability = { accessMode: { mode: Mode.SINGLE_NODE_WRITER }, mount: { fsType: 'ext4', mountFlags: [], volumeMountGroup: '' } };
const RPCS = ['CreateVolume', 'ControllerPublishVolume', 'ControllerUnpublishVolume', 'DeleteVolume'] as const;
/** The operation label each RPC's job carries in the controller's metrics. */
const OPERATION = { CreateVolume: 'create', ControllerPublishVolume: 'publish', ControllerUnpublishVolume: 'unpublish', DeleteVolume: 'delete' } as const;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

/** Peak RSS (MB) and CPU seconds of a live process, from /proc. */
function procStats(pid: number): { peakRssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { peakRssMb: Math.round(hwm / 1024), cpuSeconds: ticks / 100 };
}

async function redisUsed(url: string): Promise<number> {
  const r = new Redis(url);
  const info = await r.info('memory');
  r.disconnect();
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Commands the Redis server has run (all clients; during the bench only the controller and this script use it). */
async function redisCommands(url: string): Promise<Map<string, number>> {
  const r = new Redis(url);
  const info = await r.info('commandstats');
  r.disconnect();
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** Commands run between two commandstats readings, by command, most first. */
function commandsBetween(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const diff = [...after].map(([cmd, n]) => [cmd, n - (before.get(cmd) ?? 0)] as const).filter(([, n]) => n > 0);
  return Object.fromEntries(diff.sort((a, b) => b[1] - a[1]));
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

type Buckets = Map<string, [number, number][]>;

/** The controller's overhead histogram: per operation, cumulative counts by upper bucket bound (seconds). */
async function overheadBuckets(metricsUrl: string): Promise<Buckets> {
  const text = await (await fetch(metricsUrl)).text();
  const buckets: Buckets = new Map();
  for (const m of text.matchAll(/^plinth_operation_overhead_seconds_bucket\{le="([^"]+)",operation="([^"]+)"\} (\d+)/gm)) {
    const list = buckets.get(m[2]!) ?? [];
    list.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[3])]);
    buckets.set(m[2]!, list);
  }
  return buckets;
}

/** The observations in `after` that `before` (an earlier reading of the same histogram) did not have. */
function bucketsSince(after: Buckets, before: Buckets): Buckets {
  return new Map(
    [...after].map(([op, list]) => {
      const earlier = new Map(before.get(op) ?? []);
      return [op, list.map(([le, n]) => [le, n - (earlier.get(le) ?? 0)] as [number, number])];
    }),
  );
}

/** p50 and p99 (upper bucket bounds, ms) per operation. */
function overheadQuantiles(buckets: Buckets): Record<string, { p50: number; p99: number }> {
  const q = (list: [number, number][], p: number) => {
    const total = list.at(-1)?.[1] ?? 0;
    return 1000 * (list.find(([, c]) => c >= p * total)?.[0] ?? NaN);
  };
  const observed = [...buckets].filter(([, list]) => (list.at(-1)?.[1] ?? 0) > 0);
  return Object.fromEntries(observed.map(([op, list]) => [op, { p50: q(list, 0.5), p99: q(list, 0.99) }]));
}

async function runOnce(N: number) {
  const proxy = await startFaultProxy(stack.ec2Endpoint, values.ec2 === 'instant' ? PASS_THROUGH : EC2_LIKE);
  const redisUrl = await freshRedis(stack.redisUrl, 9);
  const cluster = uniqueCluster('bench');
  const metricsPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const ctl = await startController({
    REDIS_URL: redisUrl,
    AWS_REGION: stack.region,
    EC2_ENDPOINT: proxy.endpoint,
    PLINTH_CLUSTER_ID: cluster,
    DEFAULT_ZONE: stack.zone,
    LOG_LEVEL: 'warn',
    METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
  });
  const redisBefore = await redisUsed(redisUrl);
  const commandsBefore = await redisCommands(redisUrl);
  // Start-up (loading the bundle, connecting) is not the workload's.
  const cpuBefore = procStats(ctl.child.pid!).cpuSeconds;
  proxy.reset();
  const lat: Record<string, number[]> = Object.fromEntries(RPCS.map((r) => [r, []]));
  const errors: string[] = [];
  const opts = { timeoutMs: 600_000 };
  // Each operation's histogram as its opening burst (the first C calls, all at once on a fresh process) is done,
  // so the overhead after it can be told from the whole run's.
  const burst = Math.min(C, N);
  const afterBurst = new Map<string, Promise<Buckets>>();
  const timed = async <T>(rpc: (typeof RPCS)[number], fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      lat[rpc]!.push(performance.now() - t0);
      if (N > burst && lat[rpc]!.length === burst) afterBurst.set(OPERATION[rpc], overheadBuckets(metricsUrl));
    }
  };
  const lifecycle = async (i: number) => {
    try {
      const v = await timed('CreateVolume', () =>
        callUnary(
          ctl.controller,
          'createVolume',
          {
            name: `bench-${cluster}-${i}`,
            capacityRange: { requiredBytes: 1024 ** 3, limitBytes: 0 },
            volumeCapabilities: [cap],
            parameters: {},
            secrets: {},
            volumeContentSource: undefined,
            accessibilityRequirements: undefined,
            mutableParameters: {},
          },
          opts,
        ),
      );
      const volumeId = v.volume!.volumeId;
      await timed('ControllerPublishVolume', () =>
        callUnary(
          ctl.controller,
          'controllerPublishVolume',
          { volumeId, nodeId: stack.nodeId, volumeCapability: cap, readonly: false, secrets: {}, volumeContext: {} },
          opts,
        ),
      );
      await timed('ControllerUnpublishVolume', () =>
        callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId, nodeId: stack.nodeId, secrets: {} }, opts),
      );
      await timed('DeleteVolume', () => callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} }, opts));
    } catch (e) {
      errors.push((e as Error).message);
    }
  };
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(C, N) }, async () => {
      while (next < N) await lifecycle(next++);
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  // The two look-ups around the run cost a handful of commands; against thousands they are noise.
  const redisCommandsRun = commandsBetween(commandsBefore, await redisCommands(redisUrl));
  const redisTotal = Object.values(redisCommandsRun).reduce((a, n) => a + n, 0);
  const proc = procStats(ctl.child.pid!);
  const overheadEnd = await overheadBuckets(metricsUrl);
  const overheadMs = overheadQuantiles(overheadEnd);
  const overheadAfterBurstMs = overheadQuantiles(
    new Map(await Promise.all([...afterBurst].map(async ([op, p]) => [op, bucketsSince(overheadEnd, await p).get(op) ?? []] as const))),
  );
  await new Promise((r) => setTimeout(r, 1000));
  const redisAfter = await redisUsed(redisUrl);
  await ctl.stop();
  await proxy.close();

  // The floor EC2's mutating bucket sets: 4 mutating calls per lifecycle, a burst of 50, then 5 per second;
  // and no lifecycle can be faster than its state delays (create, attach, detach).
  const mutating = 4 * N;
  const bound = values.ec2 === 'instant' ? NaN : Math.max(Math.max(0, mutating - 50) / 5, 1.5 + 2 + 2);
  const calls = Object.fromEntries([...proxy.calls.entries()].sort((a, b) => b[1] - a[1]));
  const throttled = [...proxy.outcomes.values()].reduce((a, m) => a + (m.get('throttled') ?? 0), 0);
  return {
    N,
    concurrency: Math.min(C, N),
    ec2: values.ec2,
    wallSeconds: +wall.toFixed(2),
    lifecyclesPerSecond: +(N / wall).toFixed(2),
    boundSeconds: +bound.toFixed(1),
    ratioToBound: +(bound / wall).toFixed(3),
    latencyMs: Object.fromEntries(RPCS.map((r) => [r, { p50: +pct(lat[r]!, 50).toFixed(1), p99: +pct(lat[r]!, 99).toFixed(1) }])),
    /** Enqueue-to-result time minus time waiting on EC2, per operation (histogram bucket bounds). */
    controllerOverheadMs: overheadMs,
    /** The same, leaving out each operation's opening burst of C calls (empty when N ≤ C). */
    controllerOverheadAfterBurstMs: overheadAfterBurstMs,
    ec2Calls: calls,
    ec2CallsPerLifecycle: +(proxy.total() / N).toFixed(2),
    throttledResponses: throttled,
    errorsToCaller: errors.length,
    firstErrors: errors.slice(0, 3),
    /** p50 RPC time minus the state delay the proxy injects for it: what Plinth adds on top of EC2. */
    addedLatencyP50Ms:
      values.ec2 === 'instant'
        ? {}
        : {
            CreateVolume: +(pct(lat.CreateVolume!, 50) - AWS_LIKE_DELAYS.createMs).toFixed(0),
            ControllerPublishVolume: +(pct(lat.ControllerPublishVolume!, 50) - AWS_LIKE_DELAYS.attachMs).toFixed(0),
            ControllerUnpublishVolume: +(pct(lat.ControllerUnpublishVolume!, 50) - AWS_LIKE_DELAYS.detachMs).toFixed(0),
          },
    redisCommandsPerLifecycle: +(redisTotal / N).toFixed(1),
    /** Commands by name (those run inside Lua scripts too), over the whole run. */
    redisCommands: redisCommandsRun,
    controllerPeakRssMb: proc.peakRssMb,
    controllerCpuSeconds: proc.cpuSeconds,
    controllerCpuMsPerLifecycle: +(((proc.cpuSeconds - cpuBefore) * 1000) / N).toFixed(1),
    redisUsedBytes: { before: redisBefore, after: redisAfter },
  };
}

type Result = Awaited<ReturnType<typeof runOnce>>;

/**
 * The figures issue 16 set targets for, measured beside each target. Printed, never asserted: a miss is a finding,
 * not a failed run. A figure whose N was not run reads "not run".
 */
function printTargets(rs: Result[]): void {
  const at = (n: number) => rs.find((r) => r.N === n);
  const largest = rs.at(-1)!;
  const p99Overhead = (r: Result) => Math.max(...Object.values(r.controllerOverheadMs).map((o) => o.p99));
  const p99AfterBurst = (r: Result) => Math.max(...Object.values(r.controllerOverheadAfterBurstMs).map((o) => o.p99));
  const rows: [string, string, string, boolean | undefined][] = [];
  const row = (figure: string, r: Result | undefined, measured: (r: Result) => number, target: number, unit: string, atMost = true) => {
    if (!r) return rows.push([figure, 'not run', `${atMost ? '≤' : '≥'} ${target}${unit}`, undefined]);
    const m = measured(r);
    rows.push([`${figure}, N=${r.N}`, `${m}${unit}`, `${atMost ? '≤' : '≥'} ${target}${unit}`, atMost ? m <= target : m >= target]);
  };
  row('controller peak RSS', at(1000) ?? largest, (r) => r.controllerPeakRssMb, 100, ' MB');
  row('controller CPU per lifecycle', at(1000) ?? largest, (r) => r.controllerCpuMsPerLifecycle, 20, ' ms');
  for (const r of rs) row('EC2 calls per lifecycle', r, (x) => x.ec2CallsPerLifecycle, 4.8, '');
  const small = at(10) ?? rs[0];
  for (const rpc of ['CreateVolume', 'ControllerPublishVolume', 'ControllerUnpublishVolume'] as const)
    row(`added latency p50, ${rpc}`, small, (r) => (r.addedLatencyP50Ms as Record<string, number>)[rpc] ?? NaN, 250, ' ms');
  row('throughput, % of bucket bound', at(1000), (r) => Math.round(r.ratioToBound * 100), 98, ' %', false);
  row('controller overhead p99', at(1000) ?? largest, p99Overhead, 20, ' ms');
  const afterBurst = at(1000) ?? largest;
  if (Object.keys(afterBurst.controllerOverheadAfterBurstMs).length > 0)
    row(`controller overhead p99 after the opening burst of ${afterBurst.concurrency}`, afterBurst, p99AfterBurst, 20, ' ms');
  // Half of the 70 commands per RPC (280 per lifecycle) measured before this figure was reported.
  for (const r of rs) row('Redis commands per lifecycle', r, (x) => x.redisCommandsPerLifecycle, 140, '');
  console.log('\n| figure | measured | target | met |\n|---|---|---|---|');
  for (const [f, m, t, ok] of rows) console.log(`| ${f} | ${m} | ${t} | ${ok === undefined ? '–' : ok ? 'yes' : 'NO'} |`);
  console.log('(NodeStage+Publish against raw mkfs+mount+bind: the bench-node table.)');
}

const results: Result[] = [];
for (const N of sizes) {
  const r = await runOnce(N);
  results.push(r);
  console.log(
    `\nN=${r.N} C=${r.concurrency} (${r.ec2}): ${r.wallSeconds} s, ${r.lifecyclesPerSecond} lifecycles/s; bucket bound ${r.boundSeconds} s → ${(r.ratioToBound * 100).toFixed(0)} % of bound`,
  );
  console.log(
    `  EC2 calls ${r.ec2CallsPerLifecycle}/lifecycle ${JSON.stringify(r.ec2Calls)}; throttled ${r.throttledResponses}; errors to caller ${r.errorsToCaller}`,
  );
  for (const [rpc, l] of Object.entries(r.latencyMs))
    console.log(`  ${rpc.padEnd(26)} p50 ${String(l.p50).padStart(8)} ms  p99 ${String(l.p99).padStart(8)} ms`);
  console.log(
    `  controller overhead (excluding EC2 waits), p50/p99 ms: ${Object.entries(r.controllerOverheadMs)
      .map(([op, o]) => `${op} ${o.p50}/${o.p99}`)
      .join(', ')}${
      Object.keys(r.controllerOverheadAfterBurstMs).length
        ? `; after the opening burst of ${r.concurrency}: ${Object.entries(r.controllerOverheadAfterBurstMs)
            .map(([op, o]) => `${op} ${o.p50}/${o.p99}`)
            .join(', ')}`
        : ''
    }`,
  );
  console.log(
    `  controller peak RSS ${r.controllerPeakRssMb} MB, CPU ${r.controllerCpuSeconds} s (${r.controllerCpuMsPerLifecycle} ms/lifecycle); Redis ${(r.redisUsedBytes.before / 1e6).toFixed(2)} → ${(r.redisUsedBytes.after / 1e6).toFixed(2)} MB, ${r.redisCommandsPerLifecycle} commands/lifecycle`,
  );
  console.log(
    `  added latency over the injected EC2 delay, p50 ms: ${Object.entries(r.addedLatencyP50Ms)
      .map(([rpc, ms]) => `${rpc} +${ms}`)
      .join(', ')}`,
  );
  if (r.firstErrors.length) console.log(`  first errors: ${r.firstErrors.join(' | ')}`);
}
printTargets(results);
mkdirSync('bench-results', { recursive: true });
const file = join('bench-results', `lifecycles-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\nwrote ${file}`);
process.exit(results.some((r) => r.errorsToCaller > 0) ? 1 : 0);
