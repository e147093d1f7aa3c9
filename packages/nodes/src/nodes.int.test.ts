import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deregisterNode, heartbeat, listNodes, nodeKey, registerNode } from './index.js';

const url = process.env.REDIS_URL ?? process.env.PLINTH_REDIS_URL;
if (!url) throw new Error('REDIS_URL is not set: the integration tier needs a real Redis (npm test starts one)');

describe('node registrations in real Redis', () => {
  const prefix = `plinth-test-${process.pid}-${Date.now()}`;
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('registers, heartbeats, lists newest first, and drops expired nodes', async () => {
    const base = { zone: 'us-east-1a', instanceType: 'm5.large', attachLimit: 26, driverName: 'ebs.csi.plinth.dev', startedAt: 1000 };
    await registerNode(redis, { ...base, instanceId: 'i-aaa', heartbeatAt: 1000 }, { prefix, ttlSeconds: 30 });
    await registerNode(redis, { ...base, instanceId: 'i-bbb', heartbeatAt: 2000 }, { prefix, ttlSeconds: 30 });
    expect((await listNodes(redis, { prefix })).map((n) => n.instanceId)).toEqual(['i-bbb', 'i-aaa']);

    expect(await heartbeat(redis, 'i-aaa', 3000, { prefix, ttlSeconds: 30 })).toBe(true);
    const listed = await listNodes(redis, { prefix });
    expect(listed.map((n) => n.instanceId)).toEqual(['i-aaa', 'i-bbb']);
    expect(listed[0]).toMatchObject({ instanceId: 'i-aaa', zone: 'us-east-1a', attachLimit: 26, heartbeatAt: 3000 });
    expect(await redis.ttl(nodeKey('i-aaa', prefix))).toBeGreaterThan(0);

    // An expired registration disappears from the list and from the index.
    await redis.del(nodeKey('i-bbb', prefix));
    expect((await listNodes(redis, { prefix })).map((n) => n.instanceId)).toEqual(['i-aaa']);
    expect(await redis.zcard(`${prefix}:nodes`)).toBe(1);
    expect(await heartbeat(redis, 'i-bbb', 4000, { prefix })).toBe(false);

    await deregisterNode(redis, 'i-aaa', { prefix });
    expect(await listNodes(redis, { prefix })).toEqual([]);
  });
});
