import { invalidArgument } from '@plinth/errors';

/**
 * Node-local volumes, as aws-ebs-csi-driver defines them: one cluster-wide
 * static PV whose volume handle names a device (`local-ebs://dev/xvdbz`), not
 * a volume. Each node has its own EBS volume pre-attached at that device (a
 * launch template's block device mapping); ControllerPublish finds it in the
 * instance's mappings and never attaches or detaches anything.
 */
export const NODE_LOCAL_PREFIX = 'local-ebs://';

/** The publish_context key carrying the EBS volume found at the device (aws-ebs-csi-driver's key). */
export const PUBLISH_CONTEXT_VOLUME_ID = 'volumeID';

/** What a device name may look like: a name directly under /dev, as EC2 block device mappings spell them. */
const DEVICE = /^dev\/[a-z][a-z0-9]{1,30}$/;

export const isNodeLocalHandle = (id: string): boolean => id.startsWith(NODE_LOCAL_PREFIX);

/**
 * The device a node-local handle names (`local-ebs://dev/xvdbz` → `/dev/xvdbz`),
 * or undefined when `id` is not a node-local handle. A handle with no device,
 * or one that is not a name under /dev, is INVALID_ARGUMENT naming the field.
 */
export function nodeLocalDevice(id: string, field = 'volume_id'): string | undefined {
  if (!isNodeLocalHandle(id)) return undefined;
  const rest = id.slice(NODE_LOCAL_PREFIX.length);
  if (!DEVICE.test(rest))
    throw invalidArgument(
      `${field} "${id.slice(0, 80)}" is not a node-local volume handle: expected ${NODE_LOCAL_PREFIX}<device path without its leading slash>, e.g. ${NODE_LOCAL_PREFIX}dev/xvdbz`,
    );
  return `/${rest}`;
}
