import { snapshotBlocksContract } from './contract/blocks-contract.js';
import { MemorySnapshotBlocks } from './memory/index.js';

snapshotBlocksContract('in memory', () => {
  const blocks = new MemorySnapshotBlocks();
  let n = 0;
  return Promise.resolve({
    blocks,
    snapshotsAfter(sizeGiB: number, steps: ReadonlyArray<ReadonlyMap<number, string>>) {
      const volumeId = `vol-${(++n).toString(16).padStart(17, '0')}`;
      const now = new Map<number, string>();
      return Promise.resolve(
        steps.map((step, i) => {
          for (const [block, bytes] of step) now.set(block, bytes);
          const id = `snap-${n.toString(16).padStart(8, '0')}${i.toString(16).padStart(9, '0')}`;
          blocks.record(id, { volumeId, sizeGiB, blocks: now });
          return id;
        }),
      );
    },
  });
});
