import { EBS_BLOCK_BYTES } from '@plinth/cloud';
import type { CallContext, GetMetadataAllocatedRequest, GetMetadataAllocatedResponse, Send } from '@plinth/csi';
import {
  capacityBytes,
  pageSizeFor,
  requireMaxResults,
  requireReady,
  requireSnapshotId,
  startingBlock,
  streamBlocks,
  type MetadataDeps,
} from './block-metadata.js';

/**
 * GetMetadataAllocated: the 512 KiB blocks of a snapshot that hold data (EBS
 * ListSnapshotBlocks), from the block holding starting_offset on, streamed in
 * messages of at most max_results.
 */
export async function getMetadataAllocated(
  deps: MetadataDeps,
  req: GetMetadataAllocatedRequest,
  send: Send<GetMetadataAllocatedResponse>,
  ctx: CallContext,
): Promise<void> {
  const id = requireSnapshotId(req.snapshotId, 'snapshot_id');
  const maxResults = requireMaxResults(req.maxResults);
  const snap = requireReady((await deps.snapshots.get([id], ctx.signal)).get(id), id, 'snapshot_id');
  const capacity = capacityBytes(snap);
  const from = startingBlock(req.startingOffset, capacity, EBS_BLOCK_BYTES);
  await streamBlocks(deps.blocks.allocated(id, { startingBlock: from, pageSize: pageSizeFor(maxResults) }, ctx.signal), capacity, maxResults, send);
}
