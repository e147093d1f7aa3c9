import type { InstanceInfo, InstanceTypeInfo } from './types.js';

/** EC2's EBS attachment limit for an instance and what takes slots from it: one rule for the node agent and the admin API. */
export interface LimitBreakdown {
  /** EBS attachments the instance type allows (EC2's MaximumEbsAttachments, or the Nitro/Xen default when EC2 reports none). */
  typeLimit: number;
  /** "shared": EBS volumes, ENIs and NVMe instance store share the slots; "dedicated": only EBS volumes count. */
  limitType: 'shared' | 'dedicated';
  /** Root device and devices created with the instance (DeleteOnTermination), which are not CSI volumes. */
  nonCsiDevices: string[];
  /** Network interfaces beyond the first (shared limit only). */
  extraNetworkInterfaces: number;
  /** NVMe instance-store disks (shared limit only). */
  instanceStoreDevices: number;
  /** typeLimit minus the above, at least 1: the slots left for CSI volumes. */
  computedLimit: number;
  /** True when EC2 did not report the type's limit and a default was assumed. */
  assumed: boolean;
}

/**
 * Attachment limit when EC2 does not report one (older APIs, emulators):
 * the documented Nitro shared limit, or the Xen per-instance limit.
 */
const FALLBACK_NITRO_LIMIT = 28;
const FALLBACK_XEN_LIMIT = 39;

/**
 * Block devices that are not CSI volumes: the root device and every mapping
 * that was created with the instance (DeleteOnTermination true). Volumes the
 * controller attaches keep DeleteOnTermination false.
 */
export function nonCsiBlockDevices(instance: InstanceInfo | undefined): string[] {
  const out: string[] = [];
  for (const m of instance?.blockDevices ?? []) {
    const name = m.device || m.volumeId || '?';
    if (name === instance?.rootDevice || m.deleteOnTermination) out.push(name);
  }
  // The root device always takes a slot, even if the mapping is not listed.
  if (instance?.rootDevice && !out.includes(instance.rootDevice)) out.unshift(instance.rootDevice);
  return out;
}

/** The slots an instance of `type` leaves for CSI volumes, and why. */
export function limitBreakdown(instance: InstanceInfo | undefined, type: InstanceTypeInfo | undefined): LimitBreakdown {
  let typeLimit = type?.maxEbsAttachments;
  let limitType: 'shared' | 'dedicated' = type?.attachmentLimitType === 'dedicated' ? 'dedicated' : 'shared';
  let assumed = false;
  if (typeLimit === undefined || typeLimit <= 0) {
    const nitro = type?.hypervisor !== 'xen';
    typeLimit = nitro ? FALLBACK_NITRO_LIMIT : FALLBACK_XEN_LIMIT;
    limitType = nitro ? 'shared' : 'dedicated';
    assumed = true;
  }
  const nonCsiDevices = nonCsiBlockDevices(instance);
  const shared = limitType === 'shared';
  const extraNetworkInterfaces = shared ? Math.max(0, (instance?.networkInterfaceCount ?? 1) - 1) : 0;
  const instanceStoreDevices = shared ? (type?.nvmeInstanceStoreDisks ?? 0) : 0;
  const computedLimit = Math.max(1, typeLimit - nonCsiDevices.length - extraNetworkInterfaces - instanceStoreDevices);
  return { typeLimit, limitType, nonCsiDevices, extraNetworkInterfaces, instanceStoreDevices, computedLimit, assumed };
}
