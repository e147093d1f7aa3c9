import { afterAll } from 'vitest';
import { startNitroTestbed, type NitroTestbed } from '../../../test/nitro/testbed.js';
import { requireStack } from '../../../test/support/stack.js';
import { createAwsSnapshotBlocks } from './aws/ebs.js';
import { snapshotBlocksContract } from './contract/blocks-contract.js';

let bed: NitroTestbed | undefined;
let close: (() => void) | undefined;

snapshotBlocksContract('EBS direct APIs (the emulated Nitro host, through @aws-sdk/client-ebs)', async () => {
  const stack = requireStack();
  const b = (bed = await startNitroTestbed(stack));
  const blocks = createAwsSnapshotBlocks({ region: stack.region, endpoint: b.ebs.endpoint, maxAttempts: 1 });
  close = () => blocks.close();
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

afterAll(async () => {
  close?.();
  await bed?.close();
}, 120_000);
