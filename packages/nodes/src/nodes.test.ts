import { describe, expect, it } from 'vitest';
import { fromHash, nodeKey, nodesIndexKey } from './index.js';

describe('node registration schema', () => {
  it('names keys under the prefix', () => {
    expect(nodeKey('i-0abc')).toBe('plinth:node:i-0abc');
    expect(nodesIndexKey('t1')).toBe('t1:nodes');
  });

  it('parses a stored hash and rejects malformed ones', () => {
    const h = { instanceId: 'i-1', zone: 'us-east-1a', instanceType: 'm5.large', attachLimit: '25', driverName: 'd', startedAt: '1', heartbeatAt: '2' };
    expect(fromHash(h)).toEqual({
      instanceId: 'i-1',
      zone: 'us-east-1a',
      instanceType: 'm5.large',
      attachLimit: 25,
      driverName: 'd',
      startedAt: 1,
      heartbeatAt: 2,
    });
    expect(fromHash({ ...h, attachLimit: 'many' })).toBeUndefined();
    expect(fromHash({})).toBeUndefined();
  });
});
