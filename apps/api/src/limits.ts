import type { InstanceInfo, InstanceTypeInfo } from '@plinth/cloud';

/** EC2's EBS attachment limit for an instance and what takes slots from it, as the node agent computes it. */
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

export const FALLBACK_NITRO_LIMIT = 28;
export const FALLBACK_XEN_LIMIT = 39;

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
  const nonCsiDevices: string[] = [];
  for (const m of instance?.blockDevices ?? []) {
    const name = m.device || m.volumeId || '?';
    if (name === instance?.rootDevice || m.deleteOnTermination) nonCsiDevices.push(name);
  }
  if (instance?.rootDevice && !nonCsiDevices.includes(instance.rootDevice)) nonCsiDevices.unshift(instance.rootDevice);
  const shared = limitType === 'shared';
  const extraNetworkInterfaces = shared ? Math.max(0, (instance?.networkInterfaceCount ?? 1) - 1) : 0;
  const instanceStoreDevices = shared ? (type?.nvmeInstanceStoreDisks ?? 0) : 0;
  const computedLimit = Math.max(1, typeLimit - nonCsiDevices.length - extraNetworkInterfaces - instanceStoreDevices);
  return { typeLimit, limitType, nonCsiDevices, extraNetworkInterfaces, instanceStoreDevices, computedLimit, assumed };
}
