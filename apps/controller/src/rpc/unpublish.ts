import { isInstanceId, isNodeLocalHandle, isVolumeId } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import type { CallContext, ControllerUnpublishVolumeRequest, ControllerUnpublishVolumeResponse } from '@plinth/csi';
import type { Deps } from '../deps.js';
import { unpublishOperation } from '../ops/unpublish.js';

/** ControllerUnpublishVolume: idempotent; a volume or node that cannot exist is already detached. */
export async function controllerUnpublishVolume(
  deps: Deps,
  req: ControllerUnpublishVolumeRequest,
  ctx: CallContext,
): Promise<ControllerUnpublishVolumeResponse> {
  if (!req.volumeId) throw invalidArgument('volume_id is required');
  // A node-local volume was pre-attached by whoever launched the node, and stays attached.
  if (isNodeLocalHandle(req.volumeId)) return {};
  if (!isVolumeId(req.volumeId) || (req.nodeId && !isInstanceId(req.nodeId))) return {};
  if (!req.nodeId) {
    // No node: detach from every node it is attached to.
    const vol = await deps.cloud.volumes.get(req.volumeId);
    const nodes = (vol?.attachments ?? []).map((a) => a.instanceId).filter(Boolean);
    await Promise.all(nodes.map((nodeId) => deps.ops.run(unpublishOperation, { volumeId: req.volumeId, nodeId }, ctx.deadline)));
    return {};
  }
  await deps.ops.run(unpublishOperation, { volumeId: req.volumeId, nodeId: req.nodeId }, ctx.deadline);
  return {};
}
