/** The EBS direct APIs' block: every snapshot block is 512 KiB. */
export const EBS_BLOCK_BYTES = 512 * 1024;

/** The EBS direct APIs' page size limits (MaxResults). */
export const EBS_PAGE_MIN = 100;
export const EBS_PAGE_MAX = 10_000;

/** Where a block listing starts and how many blocks each page may hold (EBS_PAGE_MIN … EBS_PAGE_MAX). */
export interface BlockQuery {
  /** The first block index of interest: the listing starts there or at the next listed block after it. */
  startingBlock: number;
  pageSize: number;
}

/** One page of a snapshot's block map. */
export interface BlockPage {
  /** Block indexes, ascending (across pages too). */
  blocks: number[];
  /** Bytes per block (EBS_BLOCK_BYTES on EBS). */
  blockBytes: number;
  /** The size of the snapshot's volume, GiB. */
  volumeSizeGiB: number;
}

/**
 * A snapshot's block map through the EBS direct APIs (never its data). Each
 * listing pages on by itself (NextToken) and stops when its signal aborts.
 * Failures are domain errors: NotFound for a snapshot the API does not know,
 * InvalidArgument for a request it refuses (unrelated snapshots, a bad page
 * size), FailedPrecondition for access denied, Unavailable past the retries.
 */
export interface SnapshotBlocks {
  /** ListSnapshotBlocks: the blocks of the snapshot that hold data. */
  allocated(snapshotId: string, query: BlockQuery, signal?: AbortSignal): AsyncIterable<BlockPage>;
  /** ListChangedBlocks: the blocks that differ between `baseId` and the later snapshot `targetId` of the same volume. */
  changed(baseId: string, targetId: string, query: BlockQuery, signal?: AbortSignal): AsyncIterable<BlockPage>;
}
