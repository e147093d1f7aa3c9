/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return -- API bodies are JSON read back and checked with expect() */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SwaggerParser from '@apidevtools/swagger-parser';
import { CopySnapshotCommand, CreateSnapshotCommand, DeleteSnapshotCommand, DeleteVolumeCommand, DetachVolumeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { callUnary, VolumeCapability_AccessMode_Mode as Mode, type CreateVolumeRequest, type VolumeCapability } from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { registerNode } from '@plinth/nodes';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, uniqueCluster, volumeById } from '../../../test/support/ec2.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';
import { buildApp } from './app.js';
import { TokenStore } from './auth.js';
import { loadConfig } from './config.js';
import type { Deps } from './deps.js';
import type { App } from './schemas.js';
import { createDeps } from './wiring.js';

const GiB = 1024 ** 3;
const VIEWER = 'viewer-token-for-the-api-test-0001';
const OPERATOR = 'operator-token-for-the-api-test-0001';
const mountCap: VolumeCapability = { accessMode: { mode: Mode.SINGLE_NODE_WRITER }, mount: { fsType: 'ext4', mountFlags: [], volumeMountGroup: '' } };

let stack: Stack;
let cluster: string;
let redisUrl: string;
let redis: Redis;
let ctl: ControllerProcess | undefined;
let app: App;
let deps: Deps;
let closeDeps: () => Promise<void>;
let base: string;
let broken: Server;
const vols: Record<string, string> = {};
let snapshotId: string;
let copyId: string | undefined;
/** The region snapshot copies go to: another region of LocalStack's one endpoint. */
const copyRegion = () => (stack.region === 'us-west-2' ? 'us-east-1' : 'us-west-2');
const copyEc2 = () => new EC2Client({ region: copyRegion(), endpoint: stack.ec2Endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
let failedJobId: string;
let completedJobId: string;

function createReq(name: string, sizeGiB: number, parameters: Record<string, string>, zone: string): CreateVolumeRequest {
  return {
    name,
    capacityRange: { requiredBytes: sizeGiB * GiB, limitBytes: 0 },
    volumeCapabilities: [mountCap],
    parameters,
    secrets: {},
    volumeContentSource: undefined,
    accessibilityRequirements: { requisite: [{ segments: { 'topology.kubernetes.io/zone': zone } }], preferred: [] },
    mutableParameters: {},
  };
}

const pvc = (ns: string, name: string) => ({
  'csi.storage.k8s.io/pvc/namespace': ns,
  'csi.storage.k8s.io/pvc/name': name,
  'csi.storage.k8s.io/pv/name': `pv-${name}`,
});

async function get(path: string, token: string | null = VIEWER, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (metrics, docs)
  }
  return { status: res.status, body, headers: res.headers };
}

const post = (path: string, token: string | null, body?: unknown) =>
  get(path, token, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });

function apiConfig(over: Record<string, string> = {}) {
  return loadConfig({
    REDIS_URL: redisUrl,
    AWS_REGION: stack.region,
    EC2_ENDPOINT: stack.ec2Endpoint,
    PLINTH_CLUSTER_ID: cluster,
    API_KUBERNETES: 'off',
    CAPACITY_QUOTAS_GIB: 'gp3=100',
    API_CACHE_TTL_MS: '500',
    API_EC2_DESCRIBE_LIMIT: '1000:1000',
    EC2_RATE_LIMITS: 'describe=1000:1000,mutating=1000:1000',
    LOG_LEVEL: 'silent',
    ...over,
  });
}

beforeAll(async () => {
  stack = requireStack();
  cluster = uniqueCluster('api');
  redisUrl = await freshRedis(stack.redisUrl, 12);
  redis = new Redis(redisUrl);
  const ctlEnv = {
    REDIS_URL: redisUrl,
    AWS_REGION: stack.region,
    PLINTH_CLUSTER_ID: cluster,
    DEFAULT_ZONE: stack.zone,
    EC2_RATE_LIMITS: 'describe=1000:1000,mutating=1000:1000',
    EC2_POLL_INTERVAL_MS: '100',
  };
  // The node agent's own registration function, as a registered node.
  await registerNode(
    redis,
    {
      instanceId: stack.nodeId,
      zone: stack.zone,
      instanceType: stack.instanceType,
      attachLimit: 7,
      driverName: 'ebs.csi.plinth.dev',
      startedAt: Date.now(),
      heartbeatAt: Date.now(),
    },
    { ttlSeconds: 3600 },
  );

  // 1. A healthy controller creates three real volumes and attaches one.
  ctl = await startController({ ...ctlEnv, EC2_ENDPOINT: stack.ec2Endpoint });
  const make = async (key: string, size: number, params: Record<string, string>) => {
    const res = await callUnary(ctl!.controller, 'createVolume', createReq(`pvc-${cluster}-${key}`, size, params, stack.zone), { timeoutMs: 60_000 });
    vols[key] = res.volume!.volumeId;
  };
  await make('db', 4, { type: 'gp3', ...pvc('db', 'data-0') });
  await make('web', 6, { type: 'gp3', ...pvc('web', 'cache') });
  await make('logs', 8, { type: 'gp2', ...pvc('web', 'logs') });
  await callUnary(
    ctl.controller,
    'controllerPublishVolume',
    { volumeId: vols.db!, nodeId: stack.nodeId, volumeCapability: mountCap, readonly: false, secrets: {}, volumeContext: {} },
    { timeoutMs: 60_000 },
  );
  await ctl.stop();
  ctl = undefined;

  // What the controller's CreateSnapshot will do: a snapshot tagged with the cluster id.
  const snap = await ec2Of(stack).send(
    new CreateSnapshotCommand({
      VolumeId: vols.web!,
      Description: 'api test',
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: [
            { Key: 'plinth.dev/cluster-id', Value: cluster },
            { Key: 'CSIVolumeName', Value: `snap-${cluster}` },
            // Its class asked for a copy in another region (copySnapshotToRegion)…
            { Key: 'plinth.dev/copy-to-region', Value: copyRegion() },
          ],
        },
      ],
    }),
  );
  snapshotId = snap.SnapshotId!;
  // … which the controller's copy job made there, tagged as its copy.
  const copy = await copyEc2().send(
    new CopySnapshotCommand({
      SourceSnapshotId: snapshotId,
      SourceRegion: stack.region,
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: [
            { Key: 'plinth.dev/cluster-id', Value: cluster },
            { Key: 'plinth.dev/copy-of', Value: snapshotId },
          ],
        },
      ],
    }),
  );
  copyId = copy.SnapshotId!;

  // 2. A controller whose EC2 refuses every call (AuthFailure: not transient, so no call-level retry)
  //    fails a job for real: the job ends in BullMQ's failed set after its one attempt.
  broken = createServer((_req, res) =>
    res
      .writeHead(401, { 'content-type': 'text/xml' })
      .end('<Response><Errors><Error><Code>AuthFailure</Code><Message>credentials rejected</Message></Error></Errors><RequestID>x</RequestID></Response>'),
  );
  await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
  ctl = await startController({
    ...ctlEnv,
    EC2_ENDPOINT: `http://127.0.0.1:${(broken.address() as AddressInfo).port}`,
    QUEUE_ATTEMPTS: '1',
    OPERATION_TIMEOUT_MS: '1500',
  });
  await callUnary(ctl.controller, 'createVolume', createReq(`pvc-${cluster}-doomed`, 1, {}, stack.zone), { timeoutMs: 60_000 }).catch(() => undefined);
  await ctl.stop();
  ctl = undefined;

  // 3. The API, in process, on a real port.
  const config = apiConfig();
  ({ deps, close: closeDeps } = await createDeps(
    config,
    createLogger({ name: 'api-test', level: 'silent' }),
    new TokenStore([
      { role: 'viewer', token: VIEWER },
      { role: 'operator', token: OPERATOR },
    ]),
    '0.0.0-test',
  ));
  app = await buildApp(deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  failedJobId = (await deps.jobs.list({ states: ['failed'], operation: 'create' })).items[0]!.id;
  completedJobId = (await deps.jobs.list({ states: ['completed'], operation: 'create' })).items[0]!.id;
}, 240_000);

afterAll(async () => {
  await ctl?.kill();
  // Leave the shared stack as found: detach and delete this test's volumes and snapshot.
  if (stack) {
    const ec2 = ec2Of(stack);
    if (vols.db) await ec2.send(new DetachVolumeCommand({ VolumeId: vols.db, InstanceId: stack.nodeId, Force: true })).catch(() => undefined);
    if (snapshotId) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })).catch(() => undefined);
    if (copyId)
      await copyEc2()
        .send(new DeleteSnapshotCommand({ SnapshotId: copyId }))
        .catch(() => undefined);
    for (let i = 0; i < 50 && vols.db && (await volumeById(ec2, vols.db))?.State === 'in-use'; i++) await new Promise((r) => setTimeout(r, 200));
    for (const id of Object.values(vols)) await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
  }
  await app?.close();
  await closeDeps?.();
  await new Promise((r) => (broken ? broken.close(r) : r(undefined)));
  redis?.disconnect();
});

describe('open routes', () => {
  it('answers /healthz and /readyz without a token, with Redis and EC2 checked', async () => {
    expect(await get('/healthz', null)).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await get('/readyz', null);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      ready: true,
      checks: [
        { name: 'redis', ok: true },
        { name: 'ec2', ok: true },
      ],
    });
  });

  it('publishes a valid OpenAPI 3 document listing every route, and the docs UI', async () => {
    const doc = (await get('/openapi.json', null)).body as { openapi: string; paths: Record<string, Record<string, { security?: unknown[] }>> };
    expect(doc.openapi).toMatch(/^3\./);
    await SwaggerParser.validate(structuredClone(doc) as never);
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    for (const r of [
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /v1/zones',
      'GET /v1/capacity',
      'GET /v1/nodes',
      'GET /v1/nodes/{id}',
      'GET /v1/volumes',
      'GET /v1/volumes/{id}',
      'GET /v1/snapshots',
      'GET /v1/snapshots/{id}',
      'GET /v1/jobs',
      'GET /v1/jobs/{id}',
      'POST /v1/jobs/{id}/retry',
      'DELETE /v1/jobs/{id}',
    ])
      expect(routes).toContain(r);
    expect(doc.paths['/v1/capacity']!.get!.security).toEqual([{ bearer: [] }]);
    const docs = await fetch(`${base}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('serves Prometheus metrics with request and EC2 call series', async () => {
    await get('/v1/capacity');
    const m = (await get('/metrics', null)).body as string;
    expect(m).toMatch(/plinth_api_request_duration_seconds_count\{route="\/v1\/capacity",method="GET",status="200"\} \d+/);
    expect(m).toMatch(/plinth_ec2_api_requests_total\{action="DescribeVolumes",outcome="ok"\} \d+/);
    expect(m).toMatch(/plinth_queue_jobs\{state="failed",operation="create"\} 1/);
  });
});

describe('auth', () => {
  it('401 without a token or with a wrong one, with a JSON body and WWW-Authenticate', async () => {
    const none = await get('/v1/zones', null);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'unauthenticated', message: expect.stringContaining('Authorization: Bearer') } });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await get('/v1/zones', `${VIEWER}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthenticated');
    expect((await get('/v1/zones', null, { headers: { authorization: `Basic ${VIEWER}` } })).status).toBe(401);
  });

  it('403 for a viewer on an operator route; operators can read', async () => {
    const r = await post(`/v1/jobs/${failedJobId}/retry`, VIEWER, {});
    expect(r.status).toBe(403);
    expect(r.body.error).toEqual({ code: 'forbidden', message: 'this needs the operator role; the token has viewer' });
    expect((await get(`/v1/jobs/${failedJobId}`)).body.state).toBe('failed');
    expect((await get('/v1/zones', OPERATOR)).status).toBe(200);
  });
});

describe('zones and capacity', () => {
  it("lists zones with the registered node and the cluster's volumes in them", async () => {
    const r = await get('/v1/zones');
    expect(r.status).toBe(200);
    const zone = (r.body.zones as any[]).find((z) => z.name === stack.zone);
    expect(zone).toMatchObject({ knownToEc2: true, state: 'available', volumeCount: 3, provisionedGiB: 18 });
    expect(zone.id).toMatch(/\w+-az\d+/);
    expect(zone.nodes).toEqual([{ instanceId: stack.nodeId, instanceType: stack.instanceType, attachLimit: 7, source: 'redis' }]);
    expect(zone.byType).toEqual([
      { type: 'gp2', volumeCount: 1, provisionedGiB: 8 },
      { type: 'gp3', volumeCount: 2, provisionedGiB: 10 },
    ]);
  });

  it('gives provisioned, quota and available per zone and type, with filters', async () => {
    const all = await get('/v1/capacity');
    expect(all.status).toBe(200);
    const gp3 = (all.body.entries as any[]).find((e) => e.zone === stack.zone && e.type === 'gp3');
    expect(gp3).toEqual({
      zone: stack.zone,
      type: 'gp3',
      provisionedGiB: 10,
      volumeCount: 2,
      quotaGiB: 100,
      regionProvisionedGiB: 10,
      availableGiB: 90,
      minVolumeGiB: 1,
      maxVolumeGiB: 65536,
      largestVolumeGiB: 90,
    });
    const gp2 = (all.body.entries as any[]).find((e) => e.zone === stack.zone && e.type === 'gp2');
    expect(gp2).toMatchObject({ provisionedGiB: 8, volumeCount: 1, quotaGiB: 51200, availableGiB: 51192 });
    const one = await get(`/v1/capacity?zone=${stack.zone}&type=gp3`);
    expect(one.body.entries).toEqual([gp3]);
    const byType = await get('/v1/capacity?type=io2');
    expect(new Set((byType.body.entries as any[]).map((e) => e.type))).toEqual(new Set(['io2']));
    expect((byType.body.entries as any[]).length).toBeGreaterThan(1);
  });

  it('400 with the field named for bad filters', async () => {
    expect(await get('/v1/capacity?type=gp9')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_argument', field: 'query.type', message: expect.stringContaining('gp3') } },
    });
    expect((await get('/v1/capacity?zone=mars')).body.error.field).toBe('query.zone');
    expect((await get('/v1/capacity?zoen=us-east-1a')).body.error).toMatchObject({ field: 'query.zoen', message: 'query.zoen is not a known field' });
  });

  it('coalesces a burst of dashboard requests into one DescribeVolumes', async () => {
    await new Promise((r) => setTimeout(r, 600)); // let the 500 ms cache lapse
    const count = async () =>
      Number(/plinth_ec2_api_requests_total\{action="DescribeVolumes",outcome="ok"\} (\d+)/.exec((await get('/metrics', null)).body as string)?.[1] ?? 0);
    const before = await count();
    const answers = await Promise.all(Array.from({ length: 25 }, () => get('/v1/capacity')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect((await count()) - before).toBe(1);
  });
});

describe('nodes', () => {
  it('shows the attach limit, attached count, remaining slots, what reduces the limit and the attachments', async () => {
    const r = await get('/v1/nodes');
    expect(r.status).toBe(200);
    expect(r.body.kubernetes).toBe(false);
    const node = (r.body.items as any[]).find((n) => n.instanceId === stack.nodeId);
    expect(node).toMatchObject({
      zone: stack.zone,
      instanceType: stack.instanceType,
      sources: { redis: true, ec2: true, kubernetes: false },
      attachLimit: 7,
      attachLimitSource: 'redis',
      attachedCount: 1,
      reservedSlots: 1,
      remainingSlots: 6,
      registration: { attachLimit: 7, driverName: 'ebs.csi.plinth.dev' },
    });
    expect(node.limit.typeLimit).toBeGreaterThan(0);
    expect(node.limit.computedLimit).toBe(
      node.limit.typeLimit - node.limit.nonCsiDevices.length - node.limit.extraNetworkInterfaces - node.limit.instanceStoreDevices,
    );
    expect(node.attachments).toContainEqual({ volumeId: vols.db, device: expect.stringMatching(/^\/dev\/xvd[a-z]{2}$/), state: 'attached', csi: true });
    // The agent registered 7 (as with a MAX_VOLUMES_PER_NODE override); EC2's figures give more: shown, not hidden.
    expect(node.limit.computedLimit).toBeGreaterThan(7);
    expect(node.disagreements).toContainEqual(
      expect.objectContaining({ field: 'attachLimit', values: expect.objectContaining({ redis: 7, ec2: node.limit.computedLimit }) }),
    );
  });

  it('gets one node by id; an unknown one is 404 and a malformed id 400', async () => {
    const one = await get(`/v1/nodes/${stack.nodeId}`);
    expect(one.status).toBe(200);
    expect(one.body.instanceId).toBe(stack.nodeId);
    expect((await get('/v1/nodes/i-0123456789abcdef0')).body.error.code).toBe('not_found');
    expect(await get('/v1/nodes/node-1')).toMatchObject({ status: 400, body: { error: { field: 'params.id' } } });
    expect((await get(`/v1/nodes?zone=${stack.zone}`)).body.items).toHaveLength(1);
    expect((await get('/v1/nodes?zone=us-east-1f')).body.items).toHaveLength(0);
  });
});

describe('volumes', () => {
  const ids = (r: { body: any }) => (r.body.items as any[]).map((v) => v.id).sort();

  it('lists the volumes with filters by zone, node, state and PVC', async () => {
    const all = await get('/v1/volumes');
    expect(all.body.total).toBe(3);
    expect(ids(all)).toEqual(Object.values(vols).sort());
    expect(ids(await get(`/v1/volumes?node=${stack.nodeId}`))).toEqual([vols.db]);
    expect(ids(await get('/v1/volumes?state=in-use'))).toEqual([vols.db]);
    expect(ids(await get('/v1/volumes?state=available'))).toEqual([vols.web, vols.logs].sort());
    expect(ids(await get('/v1/volumes?pvcNamespace=web'))).toEqual([vols.web, vols.logs].sort());
    expect(ids(await get('/v1/volumes?pvcNamespace=web&pvcName=logs'))).toEqual([vols.logs]);
    expect(ids(await get('/v1/volumes?type=gp2'))).toEqual([vols.logs]);
    expect((await get(`/v1/volumes?zone=${stack.zone}`)).body.total).toBe(3);
    expect((await get('/v1/volumes?zone=us-east-1f')).body.total).toBe(0);
    const db = (all.body.items as any[]).find((v) => v.id === vols.db);
    expect(db).toMatchObject({
      name: `pvc-${cluster}-db`,
      zone: stack.zone,
      type: 'gp3',
      sizeGiB: 4,
      state: 'in-use',
      pvc: { namespace: 'db', name: 'data-0' },
      pvName: 'pv-data-0',
    });
    expect(db.attachments).toEqual([expect.objectContaining({ instanceId: stack.nodeId, state: 'attached' })]);
  });

  it('pages with a cursor', async () => {
    const p1 = await get('/v1/volumes?limit=2');
    expect(p1.body.items).toHaveLength(2);
    expect(p1.body.nextCursor).toBe(p1.body.items[1].id);
    const p2 = await get(`/v1/volumes?limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.items).toHaveLength(1);
    expect(p2.body.nextCursor).toBeNull();
    expect([...ids(p1), ...ids(p2)].sort()).toEqual(Object.values(vols).sort());
  });

  it('shows one volume with attachments, tags, modifications and its recent jobs', async () => {
    const r = await get(`/v1/volumes/${vols.db}`);
    expect(r.status).toBe(200);
    expect(r.body.tags).toMatchObject({ CSIVolumeName: `pvc-${cluster}-db`, 'plinth.dev/cluster-id': cluster });
    expect(r.body.attachments[0]).toMatchObject({ instanceId: stack.nodeId, state: 'attached' });
    expect(r.body.modifications === null || Array.isArray(r.body.modifications)).toBe(true);
    const ops = (r.body.recentJobs as any[]).map((j) => `${j.operation}:${j.state}:${j.outcome}`).sort();
    expect(ops).toEqual(['create:completed:ok', 'publish:completed:ok']);
  });

  it('400 names the field for bad ids and filters; 404 for a volume not of this cluster', async () => {
    expect(await get('/v1/volumes/vol-xyz')).toMatchObject({ status: 400, body: { error: { code: 'invalid_argument', field: 'params.id' } } });
    expect((await get('/v1/volumes?limit=0')).body.error.field).toBe('query.limit');
    expect((await get('/v1/volumes?limit=abc')).body.error.field).toBe('query.limit');
    expect((await get('/v1/volumes?node=vol-0123456789abcdef0')).body.error.field).toBe('query.node');
    expect((await get('/v1/volumes?state=broken')).body.error).toMatchObject({ field: 'query.state', message: expect.stringContaining('in-use') });
    const missing = await get('/v1/volumes/vol-0123456789abcdef0');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain(cluster);
  });
});

describe('snapshots', () => {
  it("lists and gets this cluster's snapshots, with filters", async () => {
    const all = await get('/v1/snapshots');
    expect((all.body.items as any[]).map((s) => s.id)).toEqual([snapshotId]);
    expect(all.body.items[0]).toMatchObject({
      volumeId: vols.web,
      name: `snap-${cluster}`,
      description: 'api test',
      tags: { 'plinth.dev/cluster-id': cluster },
    });
    // Its copy in the other region, as EC2 there reports it (CSI's ready_to_use stays about the snapshot itself).
    expect(all.body.items[0].copies).toEqual([{ region: copyRegion(), snapshotId: copyId, state: 'completed', progress: expect.any(String) as unknown }]);
    expect((await get(`/v1/snapshots/${snapshotId}`)).body.copies).toEqual(all.body.items[0].copies);
    expect((await get(`/v1/snapshots?volume=${vols.web}`)).body.items).toHaveLength(1);
    expect((await get(`/v1/snapshots?volume=${vols.db}`)).body.items).toHaveLength(0);
    expect((await get(`/v1/snapshots/${snapshotId}`)).body.id).toBe(snapshotId);
    expect((await get('/v1/snapshots/snap-0123456789abcdef0')).status).toBe(404);
    expect((await get('/v1/snapshots/snapshot-1')).body.error.field).toBe('params.id');
  });
});

describe('jobs', () => {
  it('shows depth by state and operation and the failed job with its error and attempts', async () => {
    const r = await get('/v1/jobs');
    expect(r.status).toBe(200);
    expect(r.body.counts).toMatchObject({ failed: 1, completed: 4, active: 0 });
    expect(r.body.depth).toContainEqual({ state: 'completed', operation: 'create', count: 3 });
    expect(r.body.depth).toContainEqual({ state: 'failed', operation: 'create', count: 1 });
    const failed = (r.body.items as any[]).find((j) => j.id === failedJobId);
    expect(failed).toMatchObject({ operation: 'create', key: `pvc-${cluster}-doomed`, state: 'failed', outcome: 'failed', attemptsMade: 1, attempts: 1 });
    expect(failed.error.kind).toMatch(/^(Internal|Unavailable|DeadlineExceeded)$/);
    expect(failed.error.message.length).toBeGreaterThan(0);
    const completed = await get('/v1/jobs?state=completed&operation=publish');
    expect((completed.body.items as any[]).map((j) => j.operation)).toEqual(['publish']);
    expect((await get('/v1/jobs?state=done')).body.error.field).toBe('query.state');
  });

  it('gets one job; unknown is 404 and a malformed id 400', async () => {
    expect((await get(`/v1/jobs/${failedJobId}`)).body).toMatchObject({ id: failedJobId, state: 'failed' });
    expect((await get('/v1/jobs/999999')).status).toBe(404);
    expect((await get('/v1/jobs/a%20b')).body.error.field).toBe('params.id');
  });

  it('refuses to retry a job that has not failed, and bad bodies name the field', async () => {
    const r = await post(`/v1/jobs/${completedJobId}/retry`, OPERATOR);
    expect(r.status).toBe(409);
    expect(r.body.error).toEqual({ code: 'failed_precondition', message: `job ${completedJobId} is completed; only failed jobs can be retried` });
    expect(await post(`/v1/jobs/${failedJobId}/retry`, OPERATOR, { resetAttempts: 'yes' })).toMatchObject({
      status: 400,
      body: { error: { field: 'body.resetAttempts' } },
    });
    expect((await post(`/v1/jobs/${failedJobId}/retry`, OPERATOR, { force: true })).body.error.field).toBe('body.force');
    const big = await post(`/v1/jobs/${failedJobId}/retry`, OPERATOR, { reason: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });

  it('retries the failed job (back to waiting, attempts reset), then deletes it', async () => {
    const r = await post(`/v1/jobs/${failedJobId}/retry`, OPERATOR, { reason: 'EC2 is back' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: failedJobId, state: 'waiting', attemptsMade: 0 });
    expect((await get(`/v1/jobs/${failedJobId}`)).body.state).toBe('waiting');
    expect((await get(`/v1/jobs/${failedJobId}`, VIEWER, { method: 'DELETE' })).status).toBe(403);
    const del = await get(`/v1/jobs/${failedJobId}`, OPERATOR, { method: 'DELETE' });
    expect(del).toMatchObject({ status: 200, body: { id: failedJobId, removed: true, state: 'waiting' } });
    expect((await get(`/v1/jobs/${failedJobId}`)).status).toBe(404);
    expect(await deps.jobs.get(failedJobId)).toBeUndefined();
  });
});

describe('limits and errors', () => {
  it('rate-limits per client with a JSON 429', async () => {
    const limited = await buildApp({ ...deps, config: apiConfig({ API_RATE_LIMIT_MAX: '3', API_RATE_LIMIT_WINDOW_MS: '60000' }) });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++)
        codes.push((await limited.inject({ method: 'GET', url: '/v1/zones', headers: { authorization: `Bearer ${VIEWER}` } })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const r = await limited.inject({ method: 'GET', url: '/v1/zones', headers: { authorization: `Bearer ${VIEWER}` } });
      expect(r.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('too many requests') } });
      expect((await limited.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('answers unknown routes and bad JSON with a code and message, never a stack', async () => {
    const nf = await get('/v1/volumez');
    expect(nf).toMatchObject({ status: 404, body: { error: { code: 'route_not_found' } } });
    const bad = await get(`/v1/jobs/${completedJobId}/retry`, OPERATOR, { method: 'POST', body: '{"reset', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_body');
    for (const r of [nf, bad]) expect(JSON.stringify(r.body)).not.toMatch(/\n\s+at |\.ts:\d+/);
  });
});

describe('auth throttling', () => {
  it('throttles token guessing per client IP: after the failure budget, 429 for wrong and correct tokens alike, other addresses unaffected', async () => {
    const guarded = await buildApp({ ...deps, config: apiConfig({ API_AUTH_FAILURE_LIMIT: '10', API_RATE_LIMIT_WINDOW_MS: '60000' }) });
    try {
      await guarded.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(guarded.server.address() as AddressInfo).port}/v1/zones`;
      const codes: number[] = [];
      for (let i = 0; i < 30; i++) codes.push((await fetch(url, { headers: { authorization: `Bearer wrong-token-${i}-0123456789abcdef` } })).status);
      expect(codes).toEqual([...Array<number>(10).fill(401), ...Array<number>(20).fill(429)]);

      // A correct token from the same address is refused too, so a right guess cannot be told from a wrong one.
      const right = await fetch(url, { headers: { authorization: `Bearer ${VIEWER}` } });
      expect(right.status).toBe(429);
      const body = (await right.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('rate_limited');
      expect(body.error.message).toMatch(/^too many failed authentications from this address: at most 10 per 1 minute; retry in (\d+) s$/);
      const retryIn = Number(/retry in (\d+) s/.exec(body.error.message)![1]);
      expect(retryIn).toBeGreaterThan(50);
      expect(retryIn).toBeLessThanOrEqual(60);
      expect(Number(right.headers.get('retry-after'))).toBe(retryIn);
      expect((await fetch(url)).status).toBe(429);

      // Another client address still gets in; open routes stay open.
      const other = await guarded.inject({ method: 'GET', url: '/v1/zones', remoteAddress: '10.9.8.7', headers: { authorization: `Bearer ${VIEWER}` } });
      expect(other.statusCode).toBe(200);
      expect((await fetch(url.replace('/v1/zones', '/healthz'))).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('lets a throttled address in again once the window has ended; successful requests do not spend the failure budget', async () => {
    const guarded = await buildApp({ ...deps, config: apiConfig({ API_AUTH_FAILURE_LIMIT: '3', API_RATE_LIMIT_WINDOW_MS: '1500' }) });
    try {
      const call = async (token: string) =>
        (await guarded.inject({ method: 'GET', url: '/v1/zones', headers: { authorization: `Bearer ${token}` } })).statusCode;
      for (let i = 0; i < 5; i++) expect(await call(VIEWER)).toBe(200);
      expect([await call('x'.repeat(20)), await call('y'.repeat(20)), await call('z'.repeat(20)), await call(VIEWER)]).toEqual([401, 401, 401, 429]);
      const r = await guarded.inject({ method: 'GET', url: '/v1/zones', headers: { authorization: `Bearer ${VIEWER}` } });
      expect(r.json().error.message).toContain('at most 3 per 1500 ms');
      await new Promise((res) => setTimeout(res, 1600));
      expect(await call(VIEWER)).toBe(200);
      expect(await call('x'.repeat(20))).toBe(401);
    } finally {
      await guarded.close();
    }
  });

  it("names the limiter's window in its 429, not the time left in it", async () => {
    for (const [windowMs, words] of [
      ['60000', '1 minute'],
      ['90000', '90 seconds'],
    ] as const) {
      const limited = await buildApp({ ...deps, config: apiConfig({ API_RATE_LIMIT_MAX: '2', API_RATE_LIMIT_WINDOW_MS: windowMs }) });
      try {
        const codes: number[] = [];
        let last: any;
        for (let i = 0; i < 3; i++) {
          const r = await limited.inject({ method: 'GET', url: '/v1/zones', headers: { authorization: `Bearer ${VIEWER}` } });
          codes.push(r.statusCode);
          last = r.json();
        }
        expect(codes).toEqual([200, 200, 429]);
        expect(last.error.message).toMatch(new RegExp(`^too many requests: at most 2 per ${words}; retry in \\d+ s$`));
      } finally {
        await limited.close();
      }
    }
  });

  it('answers an unknown route with 404 for every role, and 401 without a token', async () => {
    for (const token of [VIEWER, OPERATOR])
      for (const method of ['GET', 'POST', 'DELETE'] as const) {
        const r = await app.inject({ method, url: '/v1/no-such-route', headers: { authorization: `Bearer ${token}` } });
        expect([method, r.statusCode, r.json().error.code]).toEqual([method, 404, 'route_not_found']);
      }
    expect((await app.inject({ method: 'POST', url: '/v1/jobs/1/nope', headers: { authorization: `Bearer ${VIEWER}` } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v1/no-such-route' })).statusCode).toBe(401);
  });
});
