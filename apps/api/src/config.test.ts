import { describe, expect, it } from 'vitest';
import { isLoopback, loadConfig, splitAddress } from './config.js';

const base = { REDIS_URL: 'redis://127.0.0.1:6379', AWS_REGION: 'us-east-1' };

describe('API config', () => {
  it('has safe defaults: loopback 8080, cluster plinth, Kubernetes auto, EC2 default quotas', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      API_ADDRESS: '127.0.0.1:8080',
      PLINTH_CLUSTER_ID: 'plinth',
      API_KUBERNETES: 'auto',
      API_CACHE_TTL_MS: 3000,
      API_RATE_LIMIT_MAX: 600,
      API_AUTH_FAILURE_LIMIT: 10,
      API_BODY_LIMIT_BYTES: 16384,
      CAPACITY_QUOTAS_GIB: {},
    });
    expect(c.API_TOKENS).toBeUndefined();
  });

  it('reads quota overrides, rate limits and addresses', () => {
    const c = loadConfig({ ...base, CAPACITY_QUOTAS_GIB: 'gp3=1000', API_ADDRESS: '[::1]:9443', API_RATE_LIMIT_MAX: '5', EC2_RATE_LIMITS: 'describe=10:1' });
    expect(c.CAPACITY_QUOTAS_GIB).toEqual({ gp3: 1000 });
    expect(c.EC2_RATE_LIMITS.describe).toEqual({ capacity: 10, refillPerSecond: 1 });
    expect(splitAddress(c.API_ADDRESS)).toEqual({ host: '::1', port: 9443 });
  });

  it('names every bad variable at once', () => {
    let msg = '';
    try {
      loadConfig({ REDIS_URL: 'http://x', API_ADDRESS: 'nope', CAPACITY_QUOTAS_GIB: 'gp9=1', API_KUBERNETES: 'maybe', API_TLS_CERT: '/tmp/cert.pem' });
    } catch (e) {
      msg = (e as Error).message;
    }
    for (const name of ['REDIS_URL', 'AWS_REGION', 'API_ADDRESS', 'CAPACITY_QUOTAS_GIB', 'API_KUBERNETES']) expect(msg).toContain(name);
    expect(msg).toContain('unknown volume type "gp9"');
  });

  it('wants TLS cert and key together', () => {
    expect(() => loadConfig({ ...base, API_TLS_KEY: '/k.pem' })).toThrow(/API_TLS_CERT: API_TLS_CERT and API_TLS_KEY go together/);
    expect(loadConfig({ ...base, API_TLS_KEY: '/k.pem', API_TLS_CERT: '/c.pem' }).API_TLS_CERT).toBe('/c.pem');
  });

  it('knows loopback hosts', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.0.0.5')).toBe(false);
  });
});
