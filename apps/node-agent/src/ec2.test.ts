import { MemoryCloud } from '@plinth/cloud/memory';
import { describe, expect, it } from 'vitest';
import { describeNode, regionOfZone } from './ec2.js';
import { computeAttachLimit } from './limits.js';

describe('describeNode', () => {
  it('reads the instance and its type, the inputs of the attach limit', async () => {
    const cloud = new MemoryCloud();
    cloud.addInstanceType({ name: 'm5d.large', hypervisor: 'nitro', maxEbsAttachments: 28, attachmentLimitType: 'shared', nvmeInstanceStoreDisks: 1 });
    const i = cloud.addInstance({ type: 'm5d.large', networkInterfaceCount: 2 });
    const facts = await describeNode(cloud, 'memory', i.id, undefined);
    expect(facts.instanceTypeName).toBe('m5d.large');
    // 28 - root - 1 extra ENI - 1 instance-store disk
    expect(computeAttachLimit(facts).limit).toBe(25);
  });

  it('keeps a type EC2 does not describe by name', async () => {
    const cloud = new MemoryCloud();
    const i = cloud.addInstance();
    expect((await describeNode(cloud, 'memory', i.id, 'x9.huge')).instanceType).toEqual({ name: 'x9.huge', nvmeInstanceStoreDisks: 0 });
  });

  it('fails UNAVAILABLE naming the endpoint, with the way out', async () => {
    const cloud = new MemoryCloud();
    cloud.throttle(5);
    await expect(describeNode(cloud, 'http://ec2.local', 'i-0123456789abcdef0', undefined)).rejects.toMatchObject({
      kind: 'Unavailable',
      message: expect.stringMatching(
        /EC2 \(http:\/\/ec2.local\) did not describe instance i-0123456789abcdef0: .*RequestLimitExceeded.*MAX_VOLUMES_PER_NODE/,
      ) as unknown,
    });
  });
});

describe('regionOfZone', () => {
  it('drops the zone letter, also of local zones', () => {
    expect(regionOfZone('us-east-1a')).toBe('us-east-1');
    expect(regionOfZone('us-west-2-lax-1a')).toBe('us-west-2');
  });
});
