import { isNodeLocalHandle, nodeLocalDevice, TAG_CSI_NAME, type InstanceInfo, type VolumeInfo } from '@plinth/cloud';
import { VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';
import { failedPrecondition, invalidArgument, notFound } from '@plinth/errors';
import { capabilityProblem } from './access.js';

/**
 * Node-local volumes (`local-ebs://dev/xvdbz`, aws-ebs-csi-driver's meaning):
 * the decisions the controller takes about them, apart from the RPCs that
 * call them. A handle names a device, and each node has its own EBS volume
 * pre-attached there, so nothing the controller does to one EBS volume
 * (expand, modify, snapshot, clone, delete) applies.
 */

/** Refuses an RPC on one EBS volume for a node-local handle: INVALID_ARGUMENT naming why (as aws-ebs-csi-driver). */
export function refuseNodeLocal(id: string, cannotBe: string, field = 'volume_id'): void {
  if (!isNodeLocalHandle(id)) return;
  throw invalidArgument(
    `${field} ${id.slice(0, 80)} is a node-local volume (a different pre-attached EBS volume on each node); node-local volumes cannot be ${cannotBe}`,
  );
}

/** The feature switch: a node-local handle while it is off is INVALID_ARGUMENT saying how to turn it on. */
export function requireNodeLocalEnabled(enabled: boolean, id: string): void {
  if (!enabled)
    throw invalidArgument(
      `volume_id ${id.slice(0, 80)}: node-local volumes are not enabled; set ENABLE_NODE_LOCAL_VOLUMES=true on the controller (chart value controller.enableNodeLocalVolumes)`,
    );
}

/**
 * Why a capability cannot be served for a node-local volume, or undefined.
 * As aws-ebs-csi-driver, MULTI_NODE_MULTI_WRITER is fine for a filesystem
 * too: it only tells the scheduler pods may run on several nodes, and each
 * node mounts its own volume. Everything else is as for any EBS volume.
 */
export function nodeLocalCapabilityProblem(cap: VolumeCapability): string | undefined {
  if (cap.accessMode?.mode === Mode.MULTI_NODE_MULTI_WRITER) return capabilityProblem({ ...cap, accessMode: { mode: Mode.SINGLE_NODE_WRITER } }, undefined);
  return capabilityProblem(cap, undefined);
}

/** What ControllerPublish answers for a node-local handle on one node. */
export interface NodeLocalVolume {
  /** The device the handle names, e.g. /dev/xvdbz. */
  device: string;
  /** The EBS volume the instance has mapped there. */
  volumeId: string;
}

/**
 * The EBS volume behind a node-local handle on one instance, from the
 * instance's block device mappings (DescribeInstances). The root device is
 * refused (INVALID_ARGUMENT, aws-ebs-csi-driver's invalid-request error for
 * it); a device with no EBS volume mapped is NOT_FOUND naming device and
 * instance; a volume EC2 is detaching from it is FAILED_PRECONDITION.
 */
export function nodeLocalVolumeOn(instance: InstanceInfo | undefined, nodeId: string, handle: string): NodeLocalVolume {
  const device = nodeLocalDevice(handle);
  if (device === undefined) throw invalidArgument(`volume_id ${handle.slice(0, 80)} is not a node-local volume handle`);
  if (!instance) throw notFound(`node ${nodeId} not found (no running or stopped EC2 instance with that id)`);
  if (instance.rootDevice === device)
    throw invalidArgument(`volume_id ${handle}: ${device} is the root device of instance ${nodeId}; the root device cannot be a node-local volume`);
  const mapping = instance.blockDevices.find((b) => b.device === device);
  if (!mapping?.volumeId)
    throw notFound(
      `volume_id ${handle}: no EBS volume is mapped at ${device} on instance ${nodeId}; pre-attach one there (e.g. a block device mapping in the node's launch template)`,
    );
  if (mapping.state === 'detaching' || mapping.state === 'detached')
    throw failedPrecondition(`volume_id ${handle}: EBS volume ${mapping.volumeId} at ${device} on instance ${nodeId} is ${mapping.state}`);
  return { device, volumeId: mapping.volumeId };
}

/**
 * A node-local handle must not reach a volume some PV already owns: a CSI
 * volume (Plinth's or aws-ebs-csi-driver's, both tag CSIVolumeName) attached
 * at the device would be mounted into the node-local PV's pods, its data
 * exposed to another claim. FAILED_PRECONDITION naming the volume and its PV.
 */
export function refuseCsiVolume(found: NodeLocalVolume, volume: VolumeInfo | undefined, nodeId: string, handle: string): void {
  const owner = volume?.tags[TAG_CSI_NAME];
  if (owner)
    throw failedPrecondition(
      `volume_id ${handle}: the EBS volume at ${found.device} on instance ${nodeId} is ${found.volumeId}, CSI volume ${owner}; a node-local volume must be pre-attached outside CSI, never another PV's volume`,
    );
}
