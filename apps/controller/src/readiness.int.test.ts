/**
 * Liveness is not readiness: while EC2 or Redis is unreachable the controller's Probe (the livenessprobe
 * sidecar's question) still answers ready, GET /readyz answers 503 naming the dependency, and a mutating RPC
 * fails fast with UNAVAILABLE naming it instead of hanging until the caller's deadline.
 */
import { status } from '@grpc/grpc-js';
import { callUnary } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { codeOf, createReq } from '../../../test/support/csi.js';
import { uniqueCluster } from '../../../test/support/ec2.js';
import { freePort, pingWith, RedisProcess, requireBinary } from '../../../test/support/redis-servers.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

interface Ready {
  ready: boolean;
  reasons: string[];
  checks: { redis: string; ec2: string };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await res.text() };
}

let stack: Stack;
let redis: RedisProcess;
beforeAll(async () => {
  stack = requireStack();
  requireBinary('redis-server');
  // A Redis of this test's own, so stopping it disturbs nobody.
  const port = await freePort();
  redis = new RedisProcess('redis-server', port, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  redis.start();
  for (let i = 0; i < 100 && !(await pingWith({ host: '127.0.0.1', port }).catch(() => false)); i++) await new Promise((r) => setTimeout(r, 100));
});
afterAll(() => redis.stop());

async function start(over: Record<string, string>): Promise<{ ctl: ControllerProcess; metricsPort: number }> {
  const metricsPort = await freePort();
  const env = {
    ...testControllerEnv({
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      region: stack.region,
      zone: stack.zone,
      ec2Endpoint: stack.ec2Endpoint,
      cluster: uniqueCluster('ready'),
    }),
    METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    ...over,
  };
  return { ctl: await startController(env), metricsPort };
}

describe('liveness vs readiness', () => {
  it('with everything up: Probe ready, /healthz 200, /readyz 200', async () => {
    const { ctl, metricsPort } = await start({});
    try {
      expect((await callUnary(ctl.identity, 'probe', {})).ready).toBe(true);
      expect((await get(metricsPort, '/healthz')).status).toBe(200);
      const r = await get(metricsPort, '/readyz');
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ ready: true, reasons: [], checks: { redis: 'ok', ec2: 'ok' } });
    } finally {
      await ctl.stop();
    }
  });

  it('with EC2 unreachable (a closed port): Probe still ready, /healthz 200, /readyz 503 naming EC2 only, CreateVolume UNAVAILABLE naming EC2 at once', async () => {
    const closed = await freePort();
    const { ctl, metricsPort } = await start({ EC2_ENDPOINT: `http://127.0.0.1:${closed}`, EC2_RETRY_BUDGET_MS: '1000' });
    try {
      expect((await callUnary(ctl.identity, 'probe', {}, { timeoutMs: 10_000 })).ready).toBe(true);
      expect((await get(metricsPort, '/healthz')).status).toBe(200);
      const r = await get(metricsPort, '/readyz');
      expect(r.status).toBe(503);
      const body = JSON.parse(r.body) as Ready;
      expect(body.checks).toEqual({ redis: 'ok', ec2: 'unreachable' });
      expect(body.reasons).toHaveLength(1);
      expect(body.reasons[0]).toMatch(/^EC2 is unreachable/);
      // Meanwhile a mutating call is refused at once, naming EC2, instead of retrying EC2 until the caller's deadline.
      const t0 = performance.now();
      const got = await codeOf(callUnary(ctl.controller, 'createVolume', createReq('pvc-ready-ec2-down'), { timeoutMs: 60_000 }));
      expect(got.code).toBe(status.UNAVAILABLE);
      expect(got.details).toMatch(/^CreateVolume refused: EC2 is unreachable/);
      expect((performance.now() - t0) / 1000).toBeLessThan(5);
    } finally {
      await ctl.stop();
    }
  });

  it('with Redis gone: CreateVolume UNAVAILABLE naming Redis in seconds, Probe still ready, /readyz 503 naming Redis, then mutating calls refused at once', async () => {
    const { ctl, metricsPort } = await start({});
    try {
      expect((await get(metricsPort, '/readyz')).status).toBe(200);
      await redis.stop();
      // Before any readiness check has seen the outage: the queue's enqueue timeout answers, in seconds, though
      // the caller allows 60 s as external-provisioner does.
      let t0 = performance.now();
      let got = await codeOf(callUnary(ctl.controller, 'createVolume', createReq('pvc-ready-redis-down'), { timeoutMs: 60_000 }));
      expect(got.code).toBe(status.UNAVAILABLE);
      expect(got.details).toMatch(/^Redis is unavailable: the operation queue did not accept create/);
      expect((performance.now() - t0) / 1000).toBeLessThan(15);
      expect((await callUnary(ctl.identity, 'probe', {}, { timeoutMs: 10_000 })).ready).toBe(true);
      const r = await get(metricsPort, '/readyz');
      expect(r.status).toBe(503);
      const body = JSON.parse(r.body) as Ready;
      expect(body.checks).toEqual({ redis: 'unreachable', ec2: 'ok' });
      expect(body.reasons[0]).toMatch(/^Redis is unreachable/);
      // Once readiness has seen it, mutating calls are refused at once.
      t0 = performance.now();
      got = await codeOf(callUnary(ctl.controller, 'deleteVolume', { volumeId: 'vol-0123456789abcdef0', secrets: {} }, { timeoutMs: 60_000 }));
      expect(got.code).toBe(status.UNAVAILABLE);
      expect(got.details).toMatch(/^DeleteVolume refused: Redis is unreachable/);
      expect((performance.now() - t0) / 1000).toBeLessThan(5);
    } finally {
      await ctl.kill();
    }
  });
});
