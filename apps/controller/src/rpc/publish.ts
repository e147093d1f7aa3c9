import { isNodeLocalHandle } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import type { CallContext, ControllerPublishVolumeRequest, ControllerPublishVolumeResponse } from '@plinth/csi';
import { capabilityProblem } from '../access.js';
import type { Deps } from '../deps.js';
import { awaitInitialized } from '../initialization.js';
import { publishOperation } from '../ops/publish.js';
import { BLOCK_ATTACH_UNTIL_INITIALIZED } from '../params/volume-params.js';
import { requireNodeId, requireVolumeId } from './ids.js';
import { controllerPublishNodeLocal } from './publish-node-local.js';

/** ControllerPublishVolume: attach through the queue; publish_context carries the device path. */
export async function controllerPublishVolume(deps: Deps, req: ControllerPublishVolumeRequest, ctx: CallContext): Promise<ControllerPublishVolumeResponse> {
  if (!req.volumeId) throw invalidArgument('volume_id is required');
  if (isNodeLocalHandle(req.volumeId)) return controllerPublishNodeLocal(deps.config.ENABLE_NODE_LOCAL_VOLUMES, deps.cloud, req);
  if (!req.nodeId) throw invalidArgument('node_id is required');
  if (!req.volumeCapability) throw invalidArgument('volume_capability is required');
  const problem = capabilityProblem(req.volumeCapability, undefined);
  if (problem) throw invalidArgument(`volume_capability: ${problem}`);
  const volumeId = requireVolumeId(req.volumeId);
  const nodeId = requireNodeId(req.nodeId);
  const accessMode = String(req.volumeCapability.accessMode?.mode ?? 0);
  const res = await deps.ops.run(publishOperation, { volumeId, nodeId, accessMode, readonly: req.readonly }, ctx.deadline);
  // aws-ebs-csi-driver's StorageClass parameter, carried in the volume context: answer once EC2 has the volume initialized.
  if (req.volumeContext[BLOCK_ATTACH_UNTIL_INITIALIZED] === 'true')
    await awaitInitialized((ids, signal) => deps.cloud.api.volumes.status(ids, signal), volumeId, ctx);
  return { publishContext: { devicePath: res.devicePath } };
}
