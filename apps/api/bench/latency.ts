// p50/p99 latency of GET /v1/capacity and GET /v1/nodes with 500 volumes in
// the EC2 emulator. Run under the stack's env (node scripts/run.mjs stack):
//   npm run bench -w @plinth/api            (or: npm run bench:api)
// Volumes are created directly through the EC2 API, tagged with a fresh
// cluster id as the controller tags them; three nodes are registered with the
// node agent's registration function, 12 volumes attached to the first.
import { AttachVolumeCommand, CreateVolumeCommand, DeleteVolumeCommand, DetachVolumeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { TAG_CLUSTER, TAG_CSI_NAME } from '@plinth/cloud';
import { createLogger } from '@plinth/logger';
import { registerNode } from '@plinth/nodes';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import { freshRedis, runInstance } from '../../../test/support/ec2.js';
import { buildApp } from '../src/app.js';
import { TokenStore } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { createDeps } from '../src/wiring.js';

const N = Number(process.env.BENCH_VOLUMES ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const TOKEN = 'bench-viewer-token-0000000000';

const need = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set; run under \`node scripts/run.mjs stack\`'s exports`);
  return v;
};

async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

async function main(): Promise<void> {
  const region = need('AWS_REGION');
  const endpoint = need('EC2_ENDPOINT');
  const redisUrl = need('REDIS_URL');
  const zone = process.env.PLINTH_TEST_ZONE ?? `${region}a`;
  const cluster = `bench-api-${Date.now().toString(36)}`;
  const ec2 = new EC2Client({ region, endpoint });
  const zones = [zone, zone.replace(/.$/, 'b')];

  console.log(`creating ${N} volumes tagged ${TAG_CLUSTER}=${cluster} in ${zones.join(', ')}…`);
  const t0 = performance.now();
  const ids: string[] = [];
  await pool([...Array(N).keys()], 20, async (i) => {
    const res = await ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: zones[i % 2],
        Size: 1 + (i % 50),
        VolumeType: i % 5 === 0 ? 'gp2' : 'gp3',
        TagSpecifications: [
          {
            ResourceType: 'volume',
            Tags: [
              { Key: TAG_CLUSTER, Value: cluster },
              { Key: TAG_CSI_NAME, Value: `pvc-bench-${i}` },
            ],
          },
        ],
      }),
    );
    ids.push(res.VolumeId!);
  });
  console.log(`  ${N} volumes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const benchRedisUrl = await freshRedis(redisUrl, 14);
  const redis = new Redis(benchRedisUrl);
  const nodes = [process.env.PLINTH_TEST_NODE_ID ?? (await runInstance(ec2, zone)), await runInstance(ec2, zone), await runInstance(ec2, zones[1]!)];
  for (const [i, id] of nodes.entries())
    await registerNode(
      redis,
      {
        instanceId: id,
        zone: i === 2 ? zones[1]! : zone,
        instanceType: 'm5.large',
        attachLimit: 25,
        driverName: 'ebs.csi.plinth.dev',
        startedAt: Date.now(),
        heartbeatAt: Date.now(),
      },
      { ttlSeconds: 3600 },
    );
  const attached = ids.filter((_, i) => i % 2 === 0).slice(0, 12);
  for (const [i, v] of attached.entries())
    await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: nodes[0], Device: `/dev/xvda${'abcdefghijklmnop'[i]}` }));

  const results: string[] = [];
  // Default settings (3 s cache) with 10 connections; then no cache and one connection at a time, with the
  // API's own EC2 budget lifted: the cost of one uncached request (a DescribeVolumes of every volume).
  const modes = [
    { ttl: '3000', connections: CONNECTIONS, budget: '10:2', shared: '', label: 'cached (3 s, defaults)' },
    { ttl: '0', connections: 1, budget: '100000:100000', shared: 'describe=100000:100000', label: 'uncached, serial' },
  ];
  for (const { ttl, connections, budget, shared, label } of modes) {
    const config = loadConfig({
      API_EC2_DESCRIBE_LIMIT: budget,
      EC2_RATE_LIMITS: shared,
      REDIS_URL: benchRedisUrl,
      AWS_REGION: region,
      EC2_ENDPOINT: endpoint,
      PLINTH_CLUSTER_ID: cluster,
      API_KUBERNETES: 'off',
      API_CACHE_TTL_MS: ttl,
      API_RATE_LIMIT_MAX: '100000000',
      LOG_LEVEL: 'silent',
    });
    const { deps, close } = await createDeps(
      config,
      createLogger({ name: 'bench', level: 'silent' }),
      new TokenStore([{ role: 'viewer', token: TOKEN }]),
      'bench',
    );
    const app = await buildApp(deps);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    for (const path of ['/v1/capacity', '/v1/nodes']) {
      const check = await fetch(base + path, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await check.json()) as { entries?: { volumeCount: number }[]; items?: { instanceId: string; attachedCount: number }[] };
      const seen = body.entries
        ? `${body.entries.reduce((n, e) => n + e.volumeCount, 0)} volumes counted`
        : `${body.items?.length} nodes, ${body.items?.find((n) => n.instanceId === nodes[0])?.attachedCount} attached on the first`;
      const before = await describeCalls(base);
      const r = await autocannon({ url: base + path, connections, duration: SECONDS, headers: { authorization: `Bearer ${TOKEN}` } });
      const ec2Calls = (await describeCalls(base)) - before;
      const line = `GET ${path.padEnd(13)} ${label.padEnd(23)} p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  (${Math.round(r.requests.average)} req/s, ${r.non2xx} non-2xx, ${connections} connections, ${SECONDS} s, ${ec2Calls} DescribeVolumes; ${seen})`;
      console.log(line);
      results.push(line);
    }
    await app.close();
    await close();
  }

  console.log(`\nGET latency with ${N} volumes in the EC2 emulator (${endpoint}):\n${results.join('\n')}`);
  for (const [i, v] of attached.entries())
    await ec2.send(new DetachVolumeCommand({ VolumeId: v, InstanceId: nodes[0], Device: `/dev/xvda${'abcdefghijklmnop'[i]}` })).catch(() => undefined);
  await pool(ids, 20, (id) => ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined));
  redis.disconnect();
  ec2.destroy();
}

async function describeCalls(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/plinth_ec2_api_requests_total\{action="DescribeVolumes",outcome="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
}

await main();
