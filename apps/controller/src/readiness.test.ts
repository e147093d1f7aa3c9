import { isPlinthError } from '@plinth/errors';
import { describe, expect, it } from 'vitest';
import { Readiness } from './readiness.js';

const ok = () => Promise.resolve();
const down = (msg: string) => () => Promise.reject(new Error(msg));

describe('Readiness', () => {
  it('is ready when Redis and EC2 answer, and lets mutating calls through', async () => {
    const r = new Readiness({ pingRedis: ok, pingEc2: ok });
    await expect(r.check()).resolves.toMatchObject({ ready: true, reasons: [], checks: { redis: 'ok', ec2: 'ok' } });
    expect(() => r.assertReachable('CreateVolume')).not.toThrow();
  });

  it('names each unreachable dependency, and refuses mutating calls with UNAVAILABLE naming it', async () => {
    const r = new Readiness({ pingRedis: down('connect ECONNREFUSED 127.0.0.1:6379'), pingEc2: down('connect ECONNREFUSED 127.0.0.1:4566') });
    const report = await r.check();
    expect(report.ready).toBe(false);
    expect(report.reasons).toEqual(['Redis is unreachable: connect ECONNREFUSED 127.0.0.1:6379', 'EC2 is unreachable: connect ECONNREFUSED 127.0.0.1:4566']);
    let err: unknown;
    try {
      r.assertReachable('CreateVolume');
    } catch (e) {
      err = e;
    }
    expect(isPlinthError(err) && err.kind).toBe('Unavailable');
    expect((err as Error).message).toMatch(/^CreateVolume refused: Redis is unreachable: .*; EC2 is unreachable: /);
  });

  it('tells onUnready once when an outage begins (the waiting calls are then failed), and again after a recovery', async () => {
    let redisUp = true;
    const told: string[][] = [];
    const r = new Readiness({ pingRedis: () => (redisUp ? ok() : down('ECONNREFUSED')()), pingEc2: ok }, { onUnready: (reasons) => told.push(reasons) });
    await r.check();
    redisUp = false;
    await r.check();
    await r.check();
    expect(told).toEqual([['Redis is unreachable: ECONNREFUSED']]);
    redisUp = true;
    await r.check();
    redisUp = false;
    await r.check();
    expect(told).toHaveLength(2);
  });

  it('lets calls through before any check and once the last check is stale', async () => {
    const r = new Readiness({ pingRedis: ok, pingEc2: down('timeout') });
    expect(() => r.assertReachable('DeleteVolume')).not.toThrow();
    await r.check();
    expect(() => r.assertReachable('DeleteVolume')).toThrow(/EC2 is unreachable/);
    expect(() => r.assertReachable('DeleteVolume', -1)).not.toThrow();
  });

  it('asks EC2 at most once per ttl, Redis every time', async () => {
    let ec2 = 0;
    let redis = 0;
    const r = new Readiness({ pingRedis: () => (redis++, Promise.resolve()), pingEc2: () => (ec2++, Promise.resolve()) }, { ec2TtlMs: 60_000 });
    await r.check();
    await r.check();
    await r.check();
    expect([redis, ec2]).toEqual([3, 1]);
  });
});
