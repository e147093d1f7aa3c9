import { isPlinthError, type ErrorKind } from '@plinth/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import { causeCode } from '../errors.js';
import { EBS_BLOCK_BYTES, type BlockPage, type SnapshotBlocks } from '../snapshot-blocks.js';

/** What a SnapshotBlocks contract run needs: the boundary, and a way to make snapshots with known blocks. */
export interface BlocksTarget {
  blocks: SnapshotBlocks;
  /**
   * Makes a new volume of `sizeGiB`, then for each step writes its blocks (block index → bytes written at the
   * block's start) and takes a snapshot once they are in; answers the snapshots' ids in order.
   */
  snapshotsAfter(sizeGiB: number, steps: ReadonlyArray<ReadonlyMap<number, string>>): Promise<string[]>;
}

const MISSING_SNAPSHOT = 'snap-0fffffffffffffff1';
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

async function collect(pages: AsyncIterable<BlockPage>): Promise<BlockPage[]> {
  const out: BlockPage[] = [];
  for await (const p of pages) out.push(p);
  return out;
}
const indexes = (pages: BlockPage[]): number[] => pages.flatMap((p) => p.blocks);

async function failure(p: Promise<unknown>): Promise<{ kind: ErrorKind; code: string | undefined }> {
  try {
    await p;
  } catch (err) {
    if (!isPlinthError(err)) throw err;
    return { kind: err.kind, code: causeCode(err) };
  }
  throw new Error('expected the listing to fail');
}

/**
 * The cases every SnapshotBlocks must satisfy alike, the in-memory EBS and
 * the emulated Nitro host's EBS direct endpoint: which blocks are listed, in
 * what order and pages, from which block, and each refusal's kind and code.
 */
export function snapshotBlocksContract(name: string, setup: () => Promise<BlocksTarget>): void {
  describe(`SnapshotBlocks contract: ${name}`, () => {
    let t: BlocksTarget;
    let a: string;
    let b: string;
    const written = [300, 430] as const;

    beforeAll(async () => {
      t = await setup();
      const first = new Map([
        [0, 'a0'],
        [1, 'a1'],
        [5, 'a5'],
        [2047, 'a-last'],
      ]);
      const second = new Map<number, string>([[1, 'b1'], [7, 'b7'], ...range(...written).map((i): [number, string] => [i, `b${i}`])]);
      [a, b] = (await t.snapshotsAfter(1, [first, second])) as [string, string];
    }, 120_000);

    it('lists the blocks a snapshot holds, ascending, at 512 KiB, with the volume size', async () => {
      const pages = await collect(t.blocks.allocated(a, { startingBlock: 0, pageSize: 1000 }));
      expect(indexes(pages)).toEqual([0, 1, 5, 2047]);
      for (const p of pages) expect(p).toMatchObject({ blockBytes: EBS_BLOCK_BYTES, volumeSizeGiB: 1 });
      expect(indexes(await collect(t.blocks.allocated(b, { startingBlock: 0, pageSize: 1000 })))).toEqual([0, 1, 5, 7, ...range(...written), 2047]);
    });

    it('lists exactly the blocks that differ between two snapshots of a volume', async () => {
      expect(indexes(await collect(t.blocks.changed(a, b, { startingBlock: 0, pageSize: 1000 })))).toEqual([1, 7, ...range(...written)]);
    });

    it('pages by page size, the pages together the whole list', async () => {
      const pages = await collect(t.blocks.changed(a, b, { startingBlock: 0, pageSize: 100 }));
      expect(pages.length).toBeGreaterThanOrEqual(2);
      for (const p of pages) expect(p.blocks.length).toBeLessThanOrEqual(100);
      expect(indexes(pages)).toEqual([1, 7, ...range(...written)]);
    });

    it('starts at the starting block', async () => {
      expect(indexes(await collect(t.blocks.changed(a, b, { startingBlock: 8, pageSize: 1000 })))).toEqual(range(...written));
      expect(indexes(await collect(t.blocks.allocated(a, { startingBlock: 5, pageSize: 1000 })))).toEqual([5, 2047]);
      expect(indexes(await collect(t.blocks.allocated(a, { startingBlock: 2048, pageSize: 1000 })))).toEqual([]);
    });

    it('refuses an unknown snapshot as NotFound', async () => {
      expect(await failure(collect(t.blocks.allocated(MISSING_SNAPSHOT, { startingBlock: 0, pageSize: 100 })))).toEqual({
        kind: 'NotFound',
        code: 'ResourceNotFoundException',
      });
      expect(await failure(collect(t.blocks.changed(MISSING_SNAPSHOT, b, { startingBlock: 0, pageSize: 100 })))).toMatchObject({ kind: 'NotFound' });
    });

    it('refuses snapshots of unrelated volumes and a page size EBS does not allow as InvalidArgument', async () => {
      const [other] = (await t.snapshotsAfter(1, [new Map([[3, 'other']])])) as [string];
      expect(await failure(collect(t.blocks.changed(a, other, { startingBlock: 0, pageSize: 100 })))).toEqual({
        kind: 'InvalidArgument',
        code: 'ValidationException',
      });
      expect(await failure(collect(t.blocks.allocated(a, { startingBlock: 0, pageSize: 99 })))).toEqual({
        kind: 'InvalidArgument',
        code: 'ValidationException',
      });
    }, 120_000);
  });
}
