import { MemoryCloud } from '@plinth/cloud/memory';
import { describe, expect, it, vi } from 'vitest';
import { checkCopyRegion } from './copy-region.js';

describe('checkCopyRegion', () => {
  it('accepts a region the account has enabled and refuses any other, naming the parameter; asks EC2 once', async () => {
    const api = new MemoryCloud({ regions: ['us-east-1', 'us-west-2'] });
    const list = vi.spyOn(api.regions, 'list');
    await checkCopyRegion(api, 'us-west-2');
    await expect(checkCopyRegion(api, 'eu-west-3')).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: 'parameter copySnapshotToRegion: "eu-west-3" is not a region enabled for this account (us-east-1, us-west-2)',
    });
    expect(list).toHaveBeenCalledTimes(1);
  });

  it('asks again after a failed look-up', async () => {
    const api = new MemoryCloud();
    api.fail('DescribeRegions', 'InternalError', 1, 500);
    await expect(checkCopyRegion(api, 'us-west-2')).rejects.toMatchObject({ kind: 'Unavailable' });
    await checkCopyRegion(api, 'us-west-2');
  });
});
