import { ConfigError, parseEnv, z } from '@plinth/config';
import { describe, expect, it } from 'vitest';
import { alwaysCheck, describeRedis, redisEnv, redisOptions, redisSettings, refineRedisEnv } from './index.js';

const schema = z.object(redisEnv).superRefine((env, ctx) => refineRedisEnv(env, ctx), alwaysCheck);
const optional = z.object(redisEnv).superRefine((env, ctx) => refineRedisEnv(env, ctx, { required: false }), alwaysCheck);
const parse = (env: Record<string, string>) => redisSettings(parseEnv(schema, env));
const fakeRead = (p: string) => Buffer.from(`PEM of ${p}`);

describe('REDIS_* variables', () => {
  it('takes a plain URL', () => {
    expect(parse({ REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  it('takes Sentinel with a name, credentials and TLS', () => {
    const s = parse({
      REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'plinth',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_SENTINEL_TLS: 'true',
      REDIS_PASSWORD: 'redis-secret',
      REDIS_USERNAME: 'plinth',
      REDIS_TLS: 'true',
      REDIS_CA_FILE: '/etc/redis-ca/ca.crt',
      REDIS_DB: '2',
    });
    expect(s).toEqual({
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      sentinelName: 'plinth',
      sentinelPassword: 'sentinel-secret',
      sentinelTls: true,
      username: 'plinth',
      password: 'redis-secret',
      db: 2,
      tls: true,
      caFile: '/etc/redis-ca/ca.crt',
    });
  });

  it('names every bad variable at once', () => {
    const run = () => parseEnv(schema, { REDIS_SENTINELS: 'sentinel-0,bad:99999', REDIS_DB: 'x' });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/REDIS_SENTINELS: expected host:port.*"sentinel-0" is not host:port/);
    expect(run).toThrow(/REDIS_DB: expected a database number/);
  });

  it('needs a name with the sentinels, and refuses both a URL and sentinels', () => {
    expect(() => parse({ REDIS_SENTINELS: 'a:26379' })).toThrow(/REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/);
    expect(() => parse({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm', REDIS_URL: 'redis://a:6379' })).toThrow(
      /REDIS_URL: set REDIS_URL or REDIS_SENTINELS, not both/,
    );
  });

  it('reports a missing REDIS_URL along with other bad variables', () => {
    expect(() => parse({ REDIS_DB: 'x' })).toThrow(/REDIS_DB: expected a database number[\s\S]*REDIS_URL: REDIS_URL .* is required/);
  });

  it('requires one of them unless Redis is optional', () => {
    expect(() => parse({})).toThrow(/REDIS_URL: REDIS_URL .* or REDIS_SENTINELS .* is required/);
    expect(redisSettings(parseEnv(optional, {}))).toBeUndefined();
  });

  it('refuses sentinel settings without sentinels, TLS on a redis:// URL, and URLs that are not Redis', () => {
    expect(() => parse({ REDIS_URL: 'redis://a:6379', REDIS_SENTINEL_PASSWORD: 'x' })).toThrow(/REDIS_SENTINEL_PASSWORD: only meaningful with REDIS_SENTINELS/);
    expect(() => parse({ REDIS_URL: 'redis://a:6379', REDIS_TLS: 'true' })).toThrow(/REDIS_TLS: REDIS_URL is redis:\/\/ \(plain\); use a rediss:\/\/ URL/);
    expect(() => parse({ REDIS_URL: 'http://a:6379' })).toThrow(/REDIS_URL: expected redis:\/\//);
    expect(() => parse({ REDIS_URL: 'redis://a:6379/notadb' })).toThrow(/REDIS_URL: expected redis:\/\//);
  });
});

describe('redisOptions', () => {
  it('turns a managed rediss:// URL with an ACL user into host, port, credentials, db and TLS', () => {
    const o = redisOptions(
      { url: 'rediss://plinth:p%40ss@redis.example.com:6380/3', caFile: '/ca.pem', tlsServername: 'redis.example.com' },
      { maxRetriesPerRequest: null },
      fakeRead,
    );
    expect(o).toEqual({
      host: 'redis.example.com',
      port: 6380,
      username: 'plinth',
      password: 'p@ss',
      db: 3,
      tls: { ca: Buffer.from('PEM of /ca.pem'), servername: 'redis.example.com' },
      maxRetriesPerRequest: null,
    });
  });

  it('lets REDIS_USERNAME/REDIS_PASSWORD override the URL and defaults the port', () => {
    expect(redisOptions({ url: 'redis://u:old@[::1]', username: 'plinth', password: 'new' })).toEqual({
      host: '::1',
      port: 6379,
      username: 'plinth',
      password: 'new',
    });
  });

  it('gives ioredis the sentinels, the name and TLS for each hop only when asked', () => {
    const o = redisOptions(
      {
        sentinels: [{ host: 's0', port: 26379 }],
        sentinelName: 'plinth',
        sentinelPassword: 'sp',
        sentinelTls: true,
        password: 'rp',
        tls: true,
        caFile: '/ca.pem',
      },
      {},
      fakeRead,
    );
    expect(o).toEqual({
      sentinels: [{ host: 's0', port: 26379 }],
      name: 'plinth',
      sentinelPassword: 'sp',
      sentinelTLS: { ca: Buffer.from('PEM of /ca.pem') },
      enableTLSForSentinelMode: true,
      tls: { ca: Buffer.from('PEM of /ca.pem') },
      password: 'rp',
    });
    const plain = redisOptions({ sentinels: [{ host: 's0', port: 26379 }], sentinelName: 'plinth' });
    expect(plain).not.toHaveProperty('tls');
    expect(plain).not.toHaveProperty('sentinelTLS');
  });
});

describe('describeRedis', () => {
  it('never shows a password', () => {
    const url = describeRedis('rediss://plinth:hunter2-secret@redis.example.com:6380/0');
    expect(url).toBe('rediss://plinth:REDACTED@redis.example.com:6380/0');
    const sentinel = describeRedis({
      sentinels: [
        { host: 's0', port: 26379 },
        { host: 's1', port: 26379 },
      ],
      sentinelName: 'plinth',
      sentinelPassword: 'sp-secret',
      password: 'rp-secret',
      tls: true,
    });
    expect(sentinel).toBe('sentinel plinth via s0:26379,s1:26379 (sentinel password set) (password set, tls)');
    expect(sentinel).not.toMatch(/secret/);
  });
});
