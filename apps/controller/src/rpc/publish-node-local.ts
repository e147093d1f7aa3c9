import { nodeLocalDevice, PUBLISH_CONTEXT_VOLUME_ID } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import type { ControllerPublishVolumeRequest, ControllerPublishVolumeResponse } from '@plinth/csi';
import type { Cloud } from '../cloud.js';
import { nodeLocalCapabilityProblem, nodeLocalVolumeOn, refuseCsiVolume, requireNodeLocalEnabled } from '../node-local.js';
import { requireNodeId } from './ids.js';

/**
 * ControllerPublishVolume of a node-local handle (`local-ebs://dev/xvdbz`):
 * no attachment and no job. The EBS volume the node's instance has mapped at
 * the device is looked up (DescribeInstances, shared and briefly cached by
 * the controller's Cloud; then DescribeVolumes, coalesced, to refuse a CSI
 * volume of another PV) and handed to the node agent in publish_context,
 * which proves the device by that volume's serial before touching it.
 */
export async function controllerPublishNodeLocal(
  enabled: boolean,
  cloud: Pick<Cloud, 'instance' | 'volumes'>,
  req: ControllerPublishVolumeRequest,
): Promise<ControllerPublishVolumeResponse> {
  requireNodeLocalEnabled(enabled, req.volumeId);
  nodeLocalDevice(req.volumeId);
  if (!req.nodeId) throw invalidArgument('node_id is required');
  if (!req.volumeCapability) throw invalidArgument('volume_capability is required');
  const problem = nodeLocalCapabilityProblem(req.volumeCapability);
  if (problem) throw invalidArgument(`volume_capability: ${problem}`);
  const nodeId = requireNodeId(req.nodeId);
  const found = nodeLocalVolumeOn(await cloud.instance(nodeId), nodeId, req.volumeId);
  refuseCsiVolume(found, await cloud.volumes.get(found.volumeId), nodeId, req.volumeId);
  return { publishContext: { devicePath: found.device, [PUBLISH_CONTEXT_VOLUME_ID]: found.volumeId } };
}
