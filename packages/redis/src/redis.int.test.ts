/**
 * connectRedis against real servers: a TLS-only redis-server with an ACL user (a managed Redis in miniature) and
 * a primary + replica + three sentinels, through a kill -9 of the primary. Needs redis-server, redis-sentinel and
 * openssl (Debian packages; a missing one fails the test).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SentinelTopology, startTlsAclRedis, type RedisProcess } from '../../../test/support/redis-servers.js';
import { requireStack } from '../../../test/support/stack.js';
import { connectRedis, describeRedis, type RedisSettings } from './index.js';
import { RECONNECT_AFTER_END_MS } from './reconnecting.js';

describe('a managed Redis: TLS with a private CA and an ACL user', () => {
  let server: RedisProcess;
  let port = 0;
  let ca = '';
  beforeAll(async () => {
    ({ server, port, ca } = await startTlsAclRedis('plinth', 's3cret/with@chars'));
  }, 60_000);
  afterAll(() => server.stop());

  const tryPing = async (s: RedisSettings) => {
    const r = connectRedis(s, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000 });
    const seen: string[] = [];
    r.on('error', (e: Error) => seen.push(e.message));
    try {
      await r.connect();
      await r.set('plinth:tls-check', '1');
      return await r.get('plinth:tls-check');
    } catch (e) {
      // ioredis reports why the connection closed (AUTH refused, certificate) on its error event.
      throw new Error([...seen, (e as Error).message].join('; '), { cause: e });
    } finally {
      r.disconnect();
    }
  };

  it('connects with a rediss:// URL, REDIS_CA_FILE and the user in the URL (password percent-encoded)', async () => {
    await expect(tryPing({ url: `rediss://plinth:${encodeURIComponent('s3cret/with@chars')}@localhost:${port}/0`, caFile: ca })).resolves.toBe('1');
  });

  it('connects with the user and password from REDIS_USERNAME/REDIS_PASSWORD over a bare URL', async () => {
    await expect(
      tryPing({ url: `rediss://127.0.0.1:${port}`, caFile: ca, tlsServername: 'localhost', username: 'plinth', password: 's3cret/with@chars' }),
    ).resolves.toBe('1');
  });

  it('is refused with a wrong password, without the CA, and over plain TCP', async () => {
    await expect(tryPing({ url: `rediss://localhost:${port}`, caFile: ca, username: 'plinth', password: 'wrong' })).rejects.toThrow(
      /WRONGPASS|invalid username-password/i,
    );
    await expect(tryPing({ url: `rediss://localhost:${port}`, username: 'plinth', password: 's3cret/with@chars' })).rejects.toThrow(
      /self[- ]signed|certificate/i,
    );
    await expect(tryPing({ url: `redis://localhost:${port}`, username: 'plinth', password: 's3cret/with@chars' })).rejects.toThrow();
  });

  it('describes the connection without the password', () => {
    const d = describeRedis({ url: `rediss://plinth:${encodeURIComponent('s3cret/with@chars')}@localhost:${port}/0`, caFile: ca });
    expect(d).not.toContain('s3cret');
    expect(d).toContain('REDACTED');
  });
});

describe('Redis Sentinel: one primary, one replica, three sentinels', () => {
  const topo = new SentinelTopology('plinth', { downAfterMs: 1000 });
  beforeAll(() => topo.start(), 90_000);
  afterAll(() => topo.stop());

  it('finds the primary through the sentinels, and follows the promotion after a kill -9 of the primary', async () => {
    const settings: RedisSettings = { sentinels: topo.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), sentinelName: 'plinth' };
    const r = connectRedis(settings, { maxRetriesPerRequest: null });
    r.on('error', () => undefined);
    try {
      await r.set('plinth:sentinel-check', 'before');
      const role = (await r.call('ROLE')) as [string, ...unknown[]];
      expect(role[0]).toBe('master');
      expect(await topo.info(topo.primary.port, 'keyspace')).toMatch(/db0:keys=\d+/);
      // Give the write time to reach the replica (asynchronous replication), then kill the primary.
      await r.wait(1, 2000);
      await topo.primary.kill9();
      // This command waits (offline queue) through the failover instead of failing.
      await r.set('plinth:sentinel-check', 'after');
      // The sentinels agree on the new primary asynchronously (the first one to answer may lag the one that led the
      // failover); the write above already went to whichever primary ioredis was told of, so ask until they agree.
      await topo.waitForPromotion(30_000);
      expect((await topo.primaryAddress()).port).toBe(topo.replica.port);
      expect(await r.get('plinth:sentinel-check')).toBe('after');
      expect(((await r.call('ROLE')) as [string])[0]).toBe('master');
    } finally {
      r.disconnect();
    }
  }, 90_000);
});

describe('a connection ioredis gave up on', () => {
  const url = requireStack().redisUrl;
  const { hostname, port } = new URL(url);

  // The call shape that ends an ioredis client for good: a disconnect asking for a reconnect lands while a connect
  // is still under way (in Sentinel mode, the +switch-master detector firing during the master look-up).
  const endMidConnect = async (r: Redis) => {
    r.on('error', () => undefined);
    const connecting = r.connect().then(
      () => 'connected',
      (e: Error) => e.message,
    );
    r.disconnect(true);
    expect(await connecting).toMatch(/Connection is closed/);
    expect(r.status).toBe('end');
  };

  it('stays ended in plain ioredis, so every later command fails', async () => {
    const plain = new Redis({ host: hostname, port: Number(port), lazyConnect: true, maxRetriesPerRequest: null });
    await endMidConnect(plain);
    await new Promise((r) => setTimeout(r, RECONNECT_AFTER_END_MS + 500));
    expect(plain.status).toBe('end');
    await expect(plain.ping()).rejects.toThrow(/Connection is closed/);
  });

  it('connects again by itself when opened with connectRedis, and answers', async () => {
    const r = connectRedis(url, { lazyConnect: true, maxRetriesPerRequest: null });
    try {
      await endMidConnect(r);
      await vi.waitFor(() => expect(r.status).toBe('ready'), { timeout: 5000, interval: 50 });
      await expect(r.ping()).resolves.toBe('PONG');
      // Its duplicates (BullMQ's blocking connections) do the same.
      const dup = r.duplicate({ lazyConnect: true });
      await endMidConnect(dup);
      await expect(dup.ping()).rejects.toThrow(/Connection is closed/);
      await vi.waitFor(() => expect(dup.status).toBe('ready'), { timeout: 5000, interval: 50 });
      await expect(dup.ping()).resolves.toBe('PONG');
      dup.disconnect();
    } finally {
      r.disconnect();
    }
  });

  it('stays closed when closed on purpose, with disconnect or quit', async () => {
    const a = connectRedis(url, { maxRetriesPerRequest: null });
    const b = connectRedis(url, { maxRetriesPerRequest: null });
    await Promise.all([a.ping(), b.ping()]);
    a.disconnect();
    await b.quit();
    await new Promise((r) => setTimeout(r, RECONNECT_AFTER_END_MS + 500));
    expect([a.status, b.status]).toEqual(['end', 'end']);
  });
});
