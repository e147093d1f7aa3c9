/**
 * N volume lifecycles (CreateVolume → ControllerPublish → ControllerUnpublish →
 * DeleteVolume) at concurrency C through the controller's real gRPC socket,
 * against the stack in the environment (see test/support/stack.ts). Prints
 * wall time, per-RPC latency and the EC2 calls made, by action, as counted by
 * a proxy at the EC2 boundary.
 *
 *   node --conditions=plinth-src --import tsx test/bench/lifecycles.ts [--n 50] [--c 50] [--rate-limits default|off]
 */
import { parseArgs } from 'node:util';
import { callUnary, VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';
import { startController } from '../support/controller.js';
import { freshRedis, uniqueCluster } from '../support/ec2.js';
import { startEc2Proxy } from '../support/ec2-proxy.js';
import { requireStack } from '../support/stack.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '50' }, c: { type: 'string', default: '50' }, 'rate-limits': { type: 'string', default: 'default' } } });
const N = Number(values.n);
const C = Number(values.c);
const stack = requireStack();
const proxy = await startEc2Proxy(stack.ec2Endpoint);
const cluster = uniqueCluster('bench');
const ctl = await startController({
  REDIS_URL: await freshRedis(stack.redisUrl, 9),
  AWS_REGION: stack.region,
  EC2_ENDPOINT: proxy.endpoint,
  PLINTH_CLUSTER_ID: cluster,
  DEFAULT_ZONE: stack.zone,
  LOG_LEVEL: 'warn',
  ...(values['rate-limits'] === 'off' ? { EC2_RATE_LIMIT_DISABLED: 'true' } : {}),
});
proxy.reset();

const cap: VolumeCapability = { accessMode: { mode: Mode.SINGLE_NODE_WRITER }, mount: { fsType: 'ext4', mountFlags: [], volumeMountGroup: '' } };
const lat: Record<string, number[]> = { CreateVolume: [], ControllerPublishVolume: [], ControllerUnpublishVolume: [], DeleteVolume: [] };
let errors = 0;

async function timed<T>(rpc: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    lat[rpc]!.push(performance.now() - t0);
  }
}

async function lifecycle(i: number): Promise<void> {
  const opts = { timeoutMs: 300_000 };
  try {
    const v = await timed('CreateVolume', () =>
      callUnary(ctl.controller, 'createVolume', { name: `bench-${cluster}-${i}`, capacityRange: { requiredBytes: 1024 ** 3, limitBytes: 0 }, volumeCapabilities: [cap], parameters: {}, secrets: {}, volumeContentSource: undefined, accessibilityRequirements: undefined, mutableParameters: {} }, opts),
    );
    const volumeId = v.volume!.volumeId;
    await timed('ControllerPublishVolume', () => callUnary(ctl.controller, 'controllerPublishVolume', { volumeId, nodeId: stack.nodeId, volumeCapability: cap, readonly: false, secrets: {}, volumeContext: {} }, opts));
    await timed('ControllerUnpublishVolume', () => callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId, nodeId: stack.nodeId, secrets: {} }, opts));
    await timed('DeleteVolume', () => callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} }, opts));
  } catch (e) {
    errors += 1;
    console.error(`lifecycle ${i}:`, (e as Error).message);
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: Math.min(C, N) }, async () => {
  while (next < N) await lifecycle(next++);
}));
const wall = (performance.now() - t0) / 1000;

console.log(`\n${N} lifecycles at concurrency ${C} (rate limits: ${values['rate-limits']}): ${wall.toFixed(2)} s wall, ${(N / wall).toFixed(1)} lifecycles/s, ${errors} errors reaching the caller`);
console.log('\nRPC                        p50 ms    p99 ms');
for (const [rpc, xs] of Object.entries(lat)) console.log(`${rpc.padEnd(26)} ${pct(xs, 50).toFixed(1).padStart(7)} ${pct(xs, 99).toFixed(1).padStart(9)}`);
console.log('\nEC2 action                 calls   per lifecycle');
const calls = [...proxy.calls.entries()].sort((a, b) => b[1] - a[1]);
for (const [action, n] of calls) console.log(`${action.padEnd(26)} ${String(n).padStart(5)}   ${(n / N).toFixed(2)}`);
console.log(`${'total'.padEnd(26)} ${String(proxy.total()).padStart(5)}   ${(proxy.total() / N).toFixed(2)}`);

await ctl.stop();
await proxy.close();
process.exit(errors > 0 ? 1 : 0);
