import { describe, expect, it } from 'vitest';
import { requireStack } from './stack.js';

const full = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  EC2_ENDPOINT: 'http://127.0.0.1:4599',
  AWS_REGION: 'us-east-1',
  PLINTH_TEST_NODE_ID: 'i-0123456789abcdef0',
  PLINTH_TEST_ZONE: 'us-east-1a',
  PLINTH_TEST_INSTANCE_TYPE: 'm5.large',
};

describe('requireStack', () => {
  it('reads the stack from the environment', () => {
    expect(requireStack(full)).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      ec2Endpoint: 'http://127.0.0.1:4599',
      region: 'us-east-1',
      nodeId: 'i-0123456789abcdef0',
      zone: 'us-east-1a',
      instanceType: 'm5.large',
    });
  });

  it('names every missing variable and says how to get a stack', () => {
    const { REDIS_URL: _r, PLINTH_TEST_NODE_ID: _n, ...partial } = full;
    expect(() => requireStack(partial)).toThrow(/REDIS_URL, PLINTH_TEST_NODE_ID not set.*npm test.*scripts\/run\.mjs stack/);
  });

  it('treats empty values as missing', () => {
    expect(() => requireStack({ ...full, EC2_ENDPOINT: '' })).toThrow(/EC2_ENDPOINT/);
  });
});
