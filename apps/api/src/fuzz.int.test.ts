/**
 * Property-based fuzz of the admin API against its own OpenAPI document: for every documented operation,
 * fast-check generates requests from the parameter and body schemas (valid values, values just outside them,
 * arbitrary strings, malformed JSON, no/viewer/operator tokens) and sends them over HTTP to the real app on
 * real Redis and LocalStack. Every answer must be documented for its status (exactly or by range) and match that
 * response's schema; none may be 5xx. PLINTH_FUZZ_SEED replays a run; PLINTH_FUZZ_RUNS sets requests per operation.
 */
import type { AddressInfo } from 'node:net';
import { CreateVolumeCommand, DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import { createLogger } from '@plinth/logger';
import { registerNode } from '@plinth/nodes';
import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Of, freshRedis, uniqueCluster } from '../../../test/support/ec2.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';
import { buildApp } from './app.js';
import { TokenStore } from './auth.js';
import { loadConfig } from './config.js';
import type { App } from './schemas.js';
import { createDeps } from './wiring.js';

type Schema = Record<string, unknown> & { type?: string; enum?: unknown[]; pattern?: string; minimum?: number; maximum?: number };
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, unknown>;
}

const VIEWER = 'viewer-token-for-the-fuzz-test-0001';
const OPERATOR = 'operator-token-for-the-fuzz-test-0001';
const RUNS = Number(process.env.PLINTH_FUZZ_RUNS ?? 120);
const SEED = Number(process.env.PLINTH_FUZZ_SEED ?? Date.now() % 2 ** 31);

let stack: Stack;
let app: App;
let closeDeps: () => Promise<void>;
let base: string;
let doc: Doc;
let volumeId: string | undefined;
let redis: Redis;

/** Values a caller might send for one schema: mostly valid ones, and some that are not. */
function valueOf(schema: Schema, seeds: string[]): fc.Arbitrary<string> {
  const wild = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom('', ' ', '..', '%', '%zz', '-1', '0', '1e309', 'null', '[]', '{}', 'a'.repeat(300)),
  );
  const valid: fc.Arbitrary<string>[] = [];
  if (schema.enum) valid.push(fc.constantFrom(...schema.enum.map(String)));
  if (schema.pattern) valid.push(fc.stringMatching(new RegExp(schema.pattern)));
  if (schema.type === 'integer')
    valid.push(fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 }).map(String), fc.integer().map(String), fc.double().map(String));
  if (schema.type === 'boolean') valid.push(fc.constantFrom('true', 'false'));
  if (seeds.length > 0) valid.push(fc.constantFrom(...seeds));
  return valid.length > 0 ? fc.oneof({ arbitrary: fc.oneof(...valid), weight: 3 }, { arbitrary: wild, weight: 1 }) : wild;
}

/** A JSON body for the schema (object properties from their schemas), arbitrary JSON, or text that is not JSON. */
function bodyOf(schema: Schema | undefined): fc.Arbitrary<string | undefined> {
  const props = (schema?.properties ?? {}) as Record<string, Schema>;
  const typed = fc.record(
    Object.fromEntries(
      Object.entries(props).map(([k, s]) => [
        k,
        s.type === 'boolean'
          ? fc.oneof(fc.boolean(), fc.jsonValue())
          : s.type === 'string'
            ? fc.oneof(fc.string({ maxLength: 600 }), fc.jsonValue())
            : fc.jsonValue(),
      ]),
    ),
    { requiredKeys: [] },
  );
  return fc.oneof(
    { arbitrary: typed.map((v) => JSON.stringify(v)), weight: 3 },
    { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 1 },
    { arbitrary: fc.constantFrom('{', 'not json', '{"reason":', '[1,2'), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
}

interface Req {
  path: string;
  query: [string, string][];
  token: string | undefined;
  body: string | undefined;
  contentType: string | undefined;
}

function requestsFor(path: string, op: Operation, seeds: Record<string, string[]>): fc.Arbitrary<Req> {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const query = params.filter((p) => p.in === 'query');
  const json = op.requestBody?.content['application/json']?.schema;
  return fc
    .record({
      pathValues: fc.tuple(...pathParams.map((p) => valueOf(p.schema, seeds[p.name] ?? []))),
      query: fc.tuple(...query.map((p) => fc.option(valueOf(p.schema, seeds[p.name] ?? []), { nil: undefined }))),
      extra: fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 })), { nil: undefined, freq: 5 }),
      token: fc.oneof(
        { arbitrary: fc.constant(OPERATOR), weight: 6 },
        { arbitrary: fc.constant(VIEWER), weight: 3 },
        { arbitrary: fc.constantFrom(undefined, 'not-a-token', ''), weight: 1 },
      ),
      body: op.requestBody ? bodyOf(json) : fc.option(fc.constantFrom('{}', 'x'), { nil: undefined, freq: 10 }),
      contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', undefined),
    })
    .map(({ pathValues, query: q, extra, token, body, contentType }) => {
      let p = path;
      pathParams.forEach((param, i) => (p = p.replace(`{${param.name}}`, encodeURIComponent(pathValues[i]!))));
      const pairs: [string, string][] = [];
      query.forEach((param, i) => q[i] !== undefined && pairs.push([param.name, q[i]]));
      if (extra) pairs.push(extra);
      return { path: p, query: pairs, token, body, contentType: body === undefined ? undefined : contentType };
    });
}

/** The documented response for a status: the exact code, then its range (4XX), then `default`. */
function documented(op: Operation, status: number): { content?: Record<string, { schema: Schema }> } | undefined {
  return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
}

/** `#/components/…` references made absolute against the document registered in ajv as `openapi`. */
function absolute(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(absolute);
  if (schema && typeof schema === 'object')
    return Object.fromEntries(
      Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi${v}` : absolute(v)]),
    );
  return schema;
}

beforeAll(async () => {
  stack = requireStack();
  const cluster = uniqueCluster('fuzz');
  const redisUrl = await freshRedis(stack.redisUrl, 15);
  redis = new Redis(redisUrl);
  // Something for the routes to find: a registered node and one volume of the cluster.
  await registerNode(
    redis,
    {
      instanceId: stack.nodeId,
      zone: stack.zone,
      instanceType: stack.instanceType,
      attachLimit: 25,
      driverName: 'ebs.csi.plinth.dev',
      startedAt: Date.now(),
      heartbeatAt: Date.now(),
    },
    { ttlSeconds: 3600 },
  );
  const vol = await ec2Of(stack).send(
    new CreateVolumeCommand({
      AvailabilityZone: stack.zone,
      Size: 1,
      VolumeType: 'gp3',
      TagSpecifications: [
        {
          ResourceType: 'volume',
          Tags: [
            { Key: 'plinth.dev/cluster-id', Value: cluster },
            { Key: 'CSIVolumeName', Value: `pvc-${cluster}` },
            { Key: 'kubernetes.io/created-for/pvc/namespace', Value: 'fuzz' },
            { Key: 'kubernetes.io/created-for/pvc/name', Value: 'data' },
          ],
        },
      ],
    }),
  );
  volumeId = vol.VolumeId;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    AWS_REGION: stack.region,
    EC2_ENDPOINT: stack.ec2Endpoint,
    PLINTH_CLUSTER_ID: cluster,
    API_KUBERNETES: 'off',
    // Limits out of the way: the fuzz is about answers, not throttling (auth.test.ts and api.int.test.ts cover 429).
    API_RATE_LIMIT_MAX: '1000000',
    API_AUTH_FAILURE_LIMIT: '1000000',
    API_CACHE_TTL_MS: '1000',
    API_EC2_DESCRIBE_LIMIT: '1000:1000',
    EC2_RATE_LIMITS: 'describe=1000:1000,mutating=1000:1000',
    LOG_LEVEL: 'silent',
  });
  let deps;
  ({ deps, close: closeDeps } = await createDeps(
    config,
    createLogger({ name: 'api-fuzz', level: 'silent' }),
    new TokenStore([
      { role: 'viewer', token: VIEWER },
      { role: 'operator', token: OPERATOR },
    ]),
    '0.0.0-fuzz',
  ));
  app = await buildApp(deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  doc = (await (await fetch(`${base}/openapi.json`)).json()) as Doc;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await closeDeps?.();
  redis?.disconnect();
  if (volumeId)
    await ec2Of(stack)
      .send(new DeleteVolumeCommand({ VolumeId: volumeId }))
      .catch(() => undefined);
});

describe('admin API fuzz against its OpenAPI document', () => {
  it('answers every generated request with a documented status and schema, and never 5xx', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    formats.default(ajv);
    ajv.addSchema({ components: doc.components ?? {} }, 'openapi');
    const seeds: Record<string, string[]> = { id: [volumeId!, stack.nodeId, 'snap-0123456789abcdef0', '1'], node: [stack.nodeId], zone: [stack.zone] };
    const byStatus: Record<string, number> = {};
    const failures: string[] = [];
    let requests = 0;
    let fiveXx = 0;
    let schemaBreaks = 0;
    let checked = 0;
    const validators = new Map<string, ValidateFunction>();

    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    expect(ops.length).toBeGreaterThan(10);
    for (const [i, { path, method, op }] of ops.entries()) {
      const samples = fc.sample(requestsFor(path, op, seeds), { numRuns: RUNS, seed: SEED + i });
      for (const r of samples) {
        const url = `${base}${r.path}${r.query.length ? `?${new URLSearchParams(r.query).toString()}` : ''}`;
        const headers: Record<string, string> = {};
        if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
        // fetch sends no body with GET (nor would a client): bodies only for POST and DELETE.
        const sent = method === 'get' ? undefined : r.body;
        if (sent !== undefined && r.contentType) headers['content-type'] = r.contentType;
        const res = await fetch(url, { method: method.toUpperCase(), headers, ...(sent !== undefined ? { body: sent } : {}) });
        const text = await res.text();
        requests += 1;
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
        const what = `${method.toUpperCase()} ${url.slice(base.length)} (token ${r.token === undefined ? 'none' : r.token.slice(0, 8)}, body ${JSON.stringify(sent)?.slice(0, 80)}) → ${res.status}`;
        if (res.status >= 500) {
          fiveXx += 1;
          failures.push(`5xx: ${what}: ${text.slice(0, 200)}`);
          continue;
        }
        const spec = documented(op, res.status);
        if (!spec) {
          schemaBreaks += 1;
          failures.push(`undocumented status: ${what}`);
          continue;
        }
        const json = spec.content?.['application/json']?.schema;
        if (!json) continue;
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          schemaBreaks += 1;
          failures.push(`not JSON: ${what}: ${text.slice(0, 120)}`);
          continue;
        }
        const key = `${method} ${path} ${res.status}`;
        let validate = validators.get(key);
        if (!validate) validators.set(key, (validate = ajv.compile(absolute(json) as object)));
        checked += 1;
        if (!validate(body)) {
          schemaBreaks += 1;
          failures.push(`schema: ${what}: ${ajv.errorsText(validate.errors)}; body ${text.slice(0, 200)}`);
        }
      }
    }
    console.log(
      `api fuzz (seed ${SEED}): ${requests} requests over ${ops.length} operations; by status ${JSON.stringify(byStatus)}; bodies checked against their schema ${checked}; 5xx ${fiveXx}; schema breaks ${schemaBreaks}`,
    );
    expect(failures.slice(0, 20)).toEqual([]);
    // Every answer was documented JSON (but /metrics): a fuzz that checked no bodies would prove nothing.
    expect(checked).toBeGreaterThan(requests * 0.9);
    expect({ fiveXx, schemaBreaks }).toEqual({ fiveXx: 0, schemaBreaks: 0 });
  }, 600_000);
});
