import { nodeLocalDevice } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import type { ValidateVolumeCapabilitiesRequest, ValidateVolumeCapabilitiesResponse } from '@plinth/csi';
import { nodeLocalCapabilityProblem } from '../node-local.js';
import { confirmEach } from './validate.js';

/**
 * ValidateVolumeCapabilities of a node-local handle, as aws-ebs-csi-driver:
 * no EC2 look-up (the handle is a device, whose volume differs per node);
 * the capabilities are confirmed if a node-local volume can serve each,
 * MULTI_NODE_MULTI_WRITER filesystems included. While the feature is off
 * nothing is confirmed, and the message says how to turn it on.
 */
export function validateNodeLocal(enabled: boolean, req: ValidateVolumeCapabilitiesRequest): ValidateVolumeCapabilitiesResponse {
  nodeLocalDevice(req.volumeId);
  if (req.volumeCapabilities.length === 0) throw invalidArgument('volume_capabilities is required');
  if (!enabled)
    return {
      confirmed: undefined,
      message: 'node-local volumes are not enabled; set ENABLE_NODE_LOCAL_VOLUMES=true on the controller (chart value controller.enableNodeLocalVolumes)',
    };
  return confirmEach(req, nodeLocalCapabilityProblem);
}
