import { afterAll, describe, expect, it } from 'vitest';
import { startNitroTestbed, type NitroTestbed } from '../../../test/nitro/testbed.js';
import { requireStack } from '../../../test/support/stack.js';
import type { CallOutcome } from './call.js';
import { createAwsSnapshotBlocks } from './aws/ebs.js';
import { snapshotBlocksContract } from './contract/blocks-contract.js';

let bed: NitroTestbed | undefined;
const closers: (() => void)[] = [];

const endpoint = (): string => {
  if (!bed) throw new Error('the contract suite starts the emulated host first');
  return bed.ebs.endpoint;
};

snapshotBlocksContract('EBS direct APIs (the emulated Nitro host, through @aws-sdk/client-ebs)', async () => {
  const stack = requireStack();
  const b = (bed = await startNitroTestbed(stack));
  const blocks = createAwsSnapshotBlocks({ region: stack.region, endpoint: b.ebs.endpoint, maxAttempts: 1 });
  closers.push(() => blocks.close());
  return {
    blocks,
    async snapshotsAfter(sizeGiB, steps) {
      const volumeId = await b.attachedVolume(sizeGiB);
      const ids: string[] = [];
      for (const step of steps) {
        await b.writeBlocks(volumeId, step);
        ids.push(await b.snapshot(volumeId));
      }
      return ids;
    },
  };
});

describe('the EBS client', () => {
  it('reports each request to the observer EC2 requests feed, with EBS’s error code', async () => {
    const seen: [string, CallOutcome, string | undefined][] = [];
    const blocks = createAwsSnapshotBlocks({
      region: requireStack().region,
      endpoint: endpoint(),
      maxAttempts: 1,
      observer: { onCall: (action, outcome, _s, code) => seen.push([action, outcome, code]) },
    });
    closers.push(() => blocks.close());
    const volumeId = await bed!.attachedVolume(1);
    await bed!.writeBlocks(volumeId, new Map([[1, 'x']]));
    const snap = await bed!.snapshot(volumeId);
    for await (const page of blocks.allocated(snap, { startingBlock: 0, pageSize: 100 })) expect(page.blocks).toEqual([1]);
    await expect(
      (async () => {
        for await (const _ of blocks.changed('snap-0fffffffffffffff1', snap, { startingBlock: 0, pageSize: 100 })) void _;
      })(),
    ).rejects.toMatchObject({ kind: 'NotFound' });
    expect(seen).toEqual([
      ['ListSnapshotBlocks', 'ok', undefined],
      ['ListChangedBlocks', 'error', 'ResourceNotFoundException'],
    ]);
  }, 120_000);
});

afterAll(async () => {
  for (const close of closers) close();
  await bed?.close();
}, 120_000);
