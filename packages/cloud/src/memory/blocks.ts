import { ResourceNotFoundException, ValidationException } from '@aws-sdk/client-ebs';
import { mapEbsError } from '../aws/ebs-errors.js';
import { EBS_BLOCK_BYTES, EBS_PAGE_MAX, EBS_PAGE_MIN, type BlockPage, type BlockQuery, type SnapshotBlocks } from '../snapshot-blocks.js';

/** A snapshot's blocks as the in-memory EBS keeps them: block index → its content (any string; equal strings, equal bytes). */
export interface MemorySnapshotSeed {
  volumeId: string;
  sizeGiB: number;
  blocks: ReadonlyMap<number, string>;
}

const meta = { $metadata: { httpStatusCode: 400 } };

/**
 * The EBS direct APIs in memory, for unit tests: snapshots recorded with
 * their blocks; listings page by `pageSize` as EBS pages by MaxResults, and
 * refusals are the SDK's own error classes with EBS's reasons, mapped by the
 * same code as the real client's.
 */
export class MemorySnapshotBlocks implements SnapshotBlocks {
  private readonly snaps = new Map<string, MemorySnapshotSeed>();
  /** Calls made, for tests that count pages. */
  readonly calls: string[] = [];

  record(snapshotId: string, seed: MemorySnapshotSeed): void {
    this.snaps.set(snapshotId, { ...seed, blocks: new Map(seed.blocks) });
  }

  allocated(snapshotId: string, query: BlockQuery, signal?: AbortSignal): AsyncIterable<BlockPage> {
    return this.pages('ListSnapshotBlocks', `snapshot ${snapshotId}`, query, signal, () => {
      const s = this.get(snapshotId);
      return { snap: s, blocks: [...s.blocks.keys()] };
    });
  }

  changed(baseId: string, targetId: string, query: BlockQuery, signal?: AbortSignal): AsyncIterable<BlockPage> {
    return this.pages('ListChangedBlocks', `snapshots ${baseId} and ${targetId}`, query, signal, () => {
      const base = this.get(baseId);
      const target = this.get(targetId);
      if (base.volumeId !== target.volumeId) {
        throw new ValidationException({ ...meta, message: 'The snapshots are not related', Reason: 'UNRELATED_SNAPSHOTS' });
      }
      const all = new Set([...base.blocks.keys(), ...target.blocks.keys()]);
      return { snap: target, blocks: [...all].filter((i) => base.blocks.get(i) !== target.blocks.get(i)) };
    });
  }

  private get(id: string): MemorySnapshotSeed {
    const s = this.snaps.get(id);
    if (!s)
      throw new ResourceNotFoundException({
        $metadata: { httpStatusCode: 404 },
        message: `The snapshot '${id}' does not exist.`,
        Reason: 'SNAPSHOT_NOT_FOUND',
      });
    return s;
  }

  /** The listing as EBS pages it, each page one call, answered asynchronously; refusals mapped as the real client maps them. */
  private pages(
    action: string,
    what: string,
    query: BlockQuery,
    signal: AbortSignal | undefined,
    list: () => { snap: MemorySnapshotSeed; blocks: number[] },
  ): AsyncIterable<BlockPage> {
    const pages = this.listPages(action, query, signal, list)[Symbol.iterator]();
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          try {
            return Promise.resolve(pages.next());
          } catch (err) {
            return Promise.reject(mapEbsError(err, action, what));
          }
        },
      }),
    };
  }

  private *listPages(
    action: string,
    query: BlockQuery,
    signal: AbortSignal | undefined,
    list: () => { snap: MemorySnapshotSeed; blocks: number[] },
  ): Iterable<BlockPage> {
    if (query.pageSize < EBS_PAGE_MIN || query.pageSize > EBS_PAGE_MAX) {
      throw new ValidationException({ ...meta, message: `MaxResults must be ${EBS_PAGE_MIN}..${EBS_PAGE_MAX}`, Reason: 'INVALID_PARAMETER_VALUE' });
    }
    let from = query.startingBlock;
    for (;;) {
      signal?.throwIfAborted();
      this.calls.push(action);
      const { snap, blocks } = list();
      const page = blocks
        .filter((i) => i >= from)
        .sort((a, b) => a - b)
        .slice(0, query.pageSize);
      yield { blocks: page, blockBytes: EBS_BLOCK_BYTES, volumeSizeGiB: snap.sizeGiB };
      if (page.length < query.pageSize) return;
      from = page[page.length - 1]! + 1;
    }
  }
}
