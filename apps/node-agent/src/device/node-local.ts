import { nodeLocalDevice, PUBLISH_CONTEXT_VOLUME_ID } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import { requireExistingVolumeId, validateVolumeId } from './identity.js';

/**
 * The EBS volume whose device a stage or publish is about. For an EBS volume
 * id that is itself. For a node-local handle (`local-ebs://dev/xvdbz`) it is
 * the volume the controller found mapped at that device on this instance and
 * handed over in publish_context (`volumeID`, aws-ebs-csi-driver's key); the
 * device is then found and proven by that volume's NVMe serial like any other
 * before anything is formatted or mounted. Without it nothing can be proven,
 * so the call is refused.
 */
export function ebsVolumeOf(volumeId: string, publishContext: Record<string, string>): string {
  const device = nodeLocalDevice(volumeId);
  if (device === undefined) {
    validateVolumeId(volumeId);
    return volumeId;
  }
  const field = `publish_context.${PUBLISH_CONTEXT_VOLUME_ID}`;
  const real = publishContext[PUBLISH_CONTEXT_VOLUME_ID];
  if (!real)
    throw invalidArgument(
      `${field} is required for node-local volume ${volumeId}: ControllerPublishVolume names the EBS volume at ${device}, without which the device cannot be proven`,
    );
  validateVolumeId(real, field);
  const path = publishContext.devicePath;
  if (path && path !== device)
    throw invalidArgument(`publish_context devicePath ${path.slice(0, 64)} is not ${device}, the device of node-local volume ${volumeId}`);
  return real;
}

/** For calls that need only the handle (unstage, unpublish): an EBS volume id or a well-formed node-local handle. */
export function validateHandle(volumeId: string): void {
  if (nodeLocalDevice(volumeId) === undefined) validateVolumeId(volumeId);
}

/** For NodeGetVolumeStats: as requireExistingVolumeId, with a well-formed node-local handle accepted too. */
export function requireExistingHandle(volumeId: string): void {
  if (nodeLocalDevice(volumeId) === undefined) requireExistingVolumeId(volumeId);
}
