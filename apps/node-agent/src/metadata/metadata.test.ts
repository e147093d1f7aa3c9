import { describe, expect, it } from 'vitest';
import { fromEnv } from './env.js';
import { parseProviderId } from './kubernetes.js';

describe('metadata parsing', () => {
  it('reads instance id and zone from an AWS providerID', () => {
    expect(parseProviderId('aws:///us-east-1a/i-0123456789abcdef0')).toEqual({ zone: 'us-east-1a', instanceId: 'i-0123456789abcdef0' });
    expect(parseProviderId('aws:///i-0abc')).toEqual({ instanceId: 'i-0abc' });
    expect(parseProviderId('gce://p/z/n')).toBeUndefined();
  });
  it('explicit config needs both NODE_ID and NODE_ZONE and says which is missing', () => {
    expect(fromEnv('i-1', 'us-east-1a', undefined)).toEqual({ ok: { source: 'env', instanceId: 'i-1', zone: 'us-east-1a', instanceType: undefined } });
    expect(fromEnv(undefined, undefined, 'm5.large')).toEqual({ skipped: 'explicit config: NODE_ID and NODE_ZONE not set' });
  });
});
