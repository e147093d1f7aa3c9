import type { InstanceInfo, InstanceTypeInfo } from '@plinth/cloud';

/**
 * max_volumes_per_node, computed from what EC2 says about this instance type
 * and this instance. Pure, so it is unit-tested without EC2.
 */

export interface LimitInputs {
  instanceType?: InstanceTypeInfo | undefined;
  instance?: InstanceInfo | undefined;
  /** MAX_VOLUMES_PER_NODE; wins over everything. */
  override?: number | undefined;
}

export interface AttachLimit {
  limit: number;
  /** One line per step, for the start-up log. */
  explanation: string[];
}

/**
 * Attachment limit when EC2 does not report one (older APIs, emulators):
 * the documented Nitro shared limit, or the Xen per-instance limit.
 */
export const FALLBACK_NITRO_LIMIT = 28;
export const FALLBACK_XEN_LIMIT = 39;

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

export function computeAttachLimit(inputs: LimitInputs): AttachLimit {
  const explanation: string[] = [];
  if (inputs.override !== undefined) {
    const limit = Math.max(1, inputs.override);
    explanation.push(`MAX_VOLUMES_PER_NODE=${inputs.override} overrides the computed limit`);
    return { limit, explanation };
  }
  const t = inputs.instanceType;
  const typeName = t?.name ?? 'unknown type';
  let max = t?.maxEbsAttachments;
  let limitType = t?.attachmentLimitType;
  if (max === undefined || max <= 0) {
    const nitro = t?.hypervisor !== 'xen';
    max = nitro ? FALLBACK_NITRO_LIMIT : FALLBACK_XEN_LIMIT;
    limitType = nitro ? 'shared' : 'dedicated';
    explanation.push(`${typeName}: EC2 reported no EBS attachment limit; assuming ${max} (${nitro ? 'Nitro shared' : 'Xen'} default)`);
  } else {
    explanation.push(`${typeName}: EBS attachment limit ${max} (${limitType ?? 'shared'})`);
  }
  const shared = limitType !== 'dedicated';
  let limit = max;

  const nonCsi = nonCsiBlockDevices(inputs.instance);
  if (nonCsi.length > 0) {
    limit -= nonCsi.length;
    explanation.push(`- ${nonCsi.length} non-CSI block device(s): ${nonCsi.join(', ')}`);
  }
  if (shared) {
    const enis = Math.max(0, (inputs.instance?.networkInterfaceCount ?? 1) - 1);
    if (enis > 0) {
      limit -= enis;
      explanation.push(`- ${enis} network interface(s) beyond the first (shared limit)`);
    }
    const disks = t?.nvmeInstanceStoreDisks ?? 0;
    if (disks > 0) {
      limit -= disks;
      explanation.push(`- ${disks} NVMe instance-store device(s) (shared limit)`);
    }
  } else {
    explanation.push('dedicated EBS limit: network interfaces and instance store do not count');
  }
  if (limit < 1) {
    explanation.push(`= ${limit}, raised to the minimum of 1`);
    limit = 1;
  } else {
    explanation.push(`= ${limit} volumes for CSI`);
  }
  return { limit, explanation };
}
