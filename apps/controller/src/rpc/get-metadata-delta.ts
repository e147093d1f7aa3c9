import { EBS_BLOCK_BYTES } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import type { CallContext, GetMetadataDeltaRequest, GetMetadataDeltaResponse, Send } from '@plinth/csi';
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
 * GetMetadataDelta: the 512 KiB blocks that differ between a base snapshot
 * and a later one of the same volume (EBS ListChangedBlocks), from the block
 * holding starting_offset on, streamed in messages of at most max_results.
 * The capacity is the target's (a volume may have grown between the two).
 */
export async function getMetadataDelta(
  deps: MetadataDeps,
  req: GetMetadataDeltaRequest,
  send: Send<GetMetadataDeltaResponse>,
  ctx: CallContext,
): Promise<void> {
  const baseId = requireSnapshotId(req.baseSnapshotId, 'base_snapshot_id');
  const targetId = requireSnapshotId(req.targetSnapshotId, 'target_snapshot_id');
  if (baseId === targetId) throw invalidArgument(`base_snapshot_id and target_snapshot_id are both ${baseId}; the target must be a later snapshot`);
  const maxResults = requireMaxResults(req.maxResults);
  const found = await deps.snapshots.get([baseId, targetId], ctx.signal);
  const base = requireReady(found.get(baseId), baseId, 'base_snapshot_id');
  const target = requireReady(found.get(targetId), targetId, 'target_snapshot_id');
  if (base.volumeId !== target.volumeId) {
    throw invalidArgument(
      `base snapshot ${baseId} is of volume ${base.volumeId} and target snapshot ${targetId} of volume ${target.volumeId}; both must be of one volume`,
    );
  }
  if (base.startedAt && target.startedAt && target.startedAt < base.startedAt) {
    throw invalidArgument(`target snapshot ${targetId} was taken before base snapshot ${baseId}; the target must be the later one`);
  }
  const capacity = capacityBytes(target);
  const from = startingBlock(req.startingOffset, capacity, EBS_BLOCK_BYTES);
  await streamBlocks(deps.blocks.changed(baseId, targetId, { startingBlock: from, pageSize: pageSizeFor(maxResults) }, ctx.signal), capacity, maxResults, send);
}
