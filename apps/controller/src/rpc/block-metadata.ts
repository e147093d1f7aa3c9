import { EBS_PAGE_MAX, EBS_PAGE_MIN, isSnapshotId, type BlockPage, type SnapshotBlocks, type SnapshotInfo, type Snapshots } from '@plinth/cloud';
import { failedPrecondition, invalidArgument, notFound, outOfRange, unavailable } from '@plinth/errors';
import { BlockMetadataType, type BlockMetadata, type Send } from '@plinth/csi';

/** What the SnapshotMetadata RPCs need: EC2's view of snapshots and the EBS direct APIs' block maps. */
export interface MetadataDeps {
  snapshots: Snapshots;
  blocks: SnapshotBlocks;
}

/** Entries per message when the CO leaves max_results 0. */
const DEFAULT_MAX_RESULTS = 1000;
const GiB = 1024 ** 3;

/** A required snapshot id field; one not shaped like an EBS id cannot exist, so it is NOT_FOUND (as GetSnapshot). */
export function requireSnapshotId(id: string, field: string): string {
  if (!id) throw invalidArgument(`${field} is required`);
  if (!isSnapshotId(id)) throw notFound(`snapshot ${id} (${field}) not found (not an EBS snapshot id)`);
  return id;
}

/** max_results: 0 for the plugin's choice, never negative. */
export function requireMaxResults(n: number): number {
  if (n < 0 || !Number.isInteger(n)) throw invalidArgument(`max_results must be 0 or a positive number, not ${n}`);
  return n === 0 ? DEFAULT_MAX_RESULTS : n;
}

/** A snapshot whose block map can be read: it exists and EBS has finished it. */
export function requireReady(snap: SnapshotInfo | undefined, id: string, field: string): SnapshotInfo & { volumeId: string; sizeGiB: number } {
  if (!snap) throw notFound(`snapshot ${id} (${field}) not found`);
  if (snap.state === 'pending') {
    throw unavailable(`snapshot ${id} (${field}) is not ready yet (pending${snap.progress ? `, ${snap.progress}` : ''}); retry once it is ready`);
  }
  if (snap.state !== 'completed') throw failedPrecondition(`snapshot ${id} (${field}) is ${snap.state}; its blocks cannot be read`);
  if (!snap.volumeId || !snap.sizeGiB) throw failedPrecondition(`snapshot ${id} (${field}) has no source volume or size in EC2`);
  return { ...snap, volumeId: snap.volumeId, sizeGiB: snap.sizeGiB };
}

export const capacityBytes = (snap: { sizeGiB: number }): number => snap.sizeGiB * GiB;

/** The block a listing starts at for `offset`: the one holding it, so no block ending after the offset is left out. */
export function startingBlock(offset: number, capacity: number, blockBytes: number): number {
  if (offset < 0) throw outOfRange(`starting_offset ${offset} is negative`);
  if (offset > capacity) throw outOfRange(`starting_offset ${offset} is beyond the volume's capacity of ${capacity} bytes`);
  return Math.floor(offset / blockBytes);
}

/** The EBS page size for a stream: max_results within what EBS allows. */
export const pageSizeFor = (maxResults: number): number => Math.min(EBS_PAGE_MAX, Math.max(EBS_PAGE_MIN, maxResults));

interface MetadataResponse {
  blockMetadataType: BlockMetadataType;
  volumeCapacityBytes: number;
  blockMetadata: BlockMetadata[];
}

/**
 * Streams the listing's blocks as FIXED_LENGTH BlockMetadata, `maxResults` in
 * each message but the last (blocks carry over from one EBS page to the next),
 * in the order EBS lists them (ascending; each strictly after the last).
 * Nothing listed: one message with no blocks, so the CO still learns the
 * volume's capacity.
 */
export async function streamBlocks(pages: AsyncIterable<BlockPage>, capacity: number, maxResults: number, send: Send<MetadataResponse>): Promise<void> {
  let sent = 0;
  let last = -1;
  let pending: BlockMetadata[] = [];
  const flush = async (): Promise<void> => {
    const blockMetadata = pending;
    pending = [];
    await send({ blockMetadataType: BlockMetadataType.FIXED_LENGTH, volumeCapacityBytes: capacity, blockMetadata });
    sent++;
  };
  for await (const page of pages) {
    for (const b of page.blocks) {
      if (b <= last) continue;
      last = b;
      pending.push({ byteOffset: b * page.blockBytes, sizeBytes: page.blockBytes });
      if (pending.length === maxResults) await flush();
    }
  }
  if (pending.length > 0 || sent === 0) await flush();
}
