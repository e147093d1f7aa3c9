import { ConfigError } from '@plinth/config';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const base = { REDIS_URL: 'redis://127.0.0.1:6379', AWS_REGION: 'us-east-1' };

describe('controller config', () => {
  it('fills in defaults', () => {
    const c = loadConfig(base);
    expect(c.PLINTH_DRIVER_NAME).toBe('ebs.csi.plinth.dev');
    expect(c.CSI_ENDPOINT).toBe('unix:///var/lib/csi/sockets/pluginproxy/csi.sock');
    expect(c.EC2_RATE_LIMITS.mutating).toEqual({ capacity: 50, refillPerSecond: 5 });
    expect(c.DEFAULT_VOLUME_SIZE_GIB).toBe(100);
    expect(c.CAPACITY_QUOTAS_GIB).toEqual({});
    expect(c.CAPACITY_CACHE_TTL_MS).toBe(10_000);
  });

  it('reads capacity quota overrides as the admin API does, and rejects unknown types', () => {
    expect(loadConfig({ ...base, CAPACITY_QUOTAS_GIB: 'gp3=102400, io2=100' }).CAPACITY_QUOTAS_GIB).toEqual({ gp3: 102400, io2: 100 });
    expect(() => loadConfig({ ...base, CAPACITY_QUOTAS_GIB: 'gp9=1' })).toThrow(/CAPACITY_QUOTAS_GIB: bad quota "gp9=1": unknown volume type "gp9"/);
  });

  it("reads aws-ebs-csi-driver's cluster tag id and extra tags", () => {
    const c = loadConfig({ ...base, K8S_TAG_CLUSTER_ID: 'prod-1', EXTRA_TAGS: 'team=storage,cost-center=42' });
    expect([c.K8S_TAG_CLUSTER_ID, c.EXTRA_TAGS]).toEqual(['prod-1', { team: 'storage', 'cost-center': '42' }]);
    expect(loadConfig(base).EXTRA_TAGS).toEqual({});
    expect(() => loadConfig({ ...base, EXTRA_TAGS: 'CSIVolumeName=x' })).toThrow(/EXTRA_TAGS: tag key "CSIVolumeName" is reserved/);
    expect(() => loadConfig({ ...base, K8S_TAG_CLUSTER_ID: 'a b' })).toThrow(/K8S_TAG_CLUSTER_ID/);
  });

  it("turns node-local volumes on only when asked (aws-ebs-csi-driver's --enable-node-local-volumes, off by default)", () => {
    expect(loadConfig(base).ENABLE_NODE_LOCAL_VOLUMES).toBe(false);
    expect(loadConfig({ ...base, ENABLE_NODE_LOCAL_VOLUMES: 'true' }).ENABLE_NODE_LOCAL_VOLUMES).toBe(true);
    expect(loadConfig({ ...base, ENABLE_NODE_LOCAL_VOLUMES: 'false' }).ENABLE_NODE_LOCAL_VOLUMES).toBe(false);
    expect(() => loadConfig({ ...base, ENABLE_NODE_LOCAL_VOLUMES: 'on' })).toThrow(/ENABLE_NODE_LOCAL_VOLUMES/);
  });

  it('reads the EBS direct APIs endpoint as a URL, unset by default', () => {
    expect(loadConfig(base).EBS_ENDPOINT).toBeUndefined();
    expect(loadConfig({ ...base, EBS_ENDPOINT: 'http://127.0.0.1:4599' }).EBS_ENDPOINT).toBe('http://127.0.0.1:4599');
    expect(() => loadConfig({ ...base, EBS_ENDPOINT: 'not a url' })).toThrow(/EBS_ENDPOINT/);
  });

  it('parses rate limits over the defaults', () => {
    const c = loadConfig({ ...base, EC2_RATE_LIMITS: 'mutating=10:2' });
    expect(c.EC2_RATE_LIMITS.mutating).toEqual({ capacity: 10, refillPerSecond: 2 });
    expect(c.EC2_RATE_LIMITS.describe).toEqual({ capacity: 100, refillPerSecond: 20 });
  });

  it('names each bad variable', () => {
    const bad = () => loadConfig({ CSI_ENDPOINT: 'tcp://x', EC2_RATE_LIMITS: 'mutating=oops', QUEUE_ATTEMPTS: '0' });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (e) {
      const msg = (e as Error).message;
      for (const key of ['CSI_ENDPOINT', 'REDIS_URL', 'AWS_REGION', 'EC2_RATE_LIMITS', 'QUEUE_ATTEMPTS']) expect(msg).toContain(key);
    }
  });

  it('waits 2 s by default to fold a resize and a modify into one ModifyVolume; 0-60 s allowed', () => {
    expect(loadConfig(base).MODIFY_COALESCE_WINDOW_MS).toBe(2000);
    expect(loadConfig({ ...base, MODIFY_COALESCE_WINDOW_MS: '0' }).MODIFY_COALESCE_WINDOW_MS).toBe(0);
    expect(() => loadConfig({ ...base, MODIFY_COALESCE_WINDOW_MS: '120000' })).toThrow(/MODIFY_COALESCE_WINDOW_MS/);
  });
});
