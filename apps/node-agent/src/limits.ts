import { limitBreakdown, type InstanceInfo, type InstanceTypeInfo } from '@plinth/cloud';

/**
 * max_volumes_per_node, computed from what EC2 says about this instance type
 * and this instance (@plinth/cloud's limitBreakdown, the admin API's rule
 * too), explained step by step for the start-up log.
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

export function computeAttachLimit(inputs: LimitInputs): AttachLimit {
  if (inputs.override !== undefined) {
    return { limit: Math.max(1, inputs.override), explanation: [`MAX_VOLUMES_PER_NODE=${inputs.override} overrides the computed limit`] };
  }
  const b = limitBreakdown(inputs.instance, inputs.instanceType);
  const typeName = inputs.instanceType?.name ?? 'unknown type';
  const explanation = [
    b.assumed
      ? `${typeName}: EC2 reported no EBS attachment limit; assuming ${b.typeLimit} (${b.limitType === 'shared' ? 'Nitro shared' : 'Xen'} default)`
      : `${typeName}: EBS attachment limit ${b.typeLimit} (${b.limitType})`,
  ];
  if (b.nonCsiDevices.length > 0) explanation.push(`- ${b.nonCsiDevices.length} non-CSI block device(s): ${b.nonCsiDevices.join(', ')}`);
  if (b.limitType === 'dedicated') explanation.push('dedicated EBS limit: network interfaces and instance store do not count');
  if (b.extraNetworkInterfaces > 0) explanation.push(`- ${b.extraNetworkInterfaces} network interface(s) beyond the first (shared limit)`);
  if (b.instanceStoreDevices > 0) explanation.push(`- ${b.instanceStoreDevices} NVMe instance-store device(s) (shared limit)`);
  const raw = b.typeLimit - b.nonCsiDevices.length - b.extraNetworkInterfaces - b.instanceStoreDevices;
  explanation.push(raw < 1 ? `= ${raw}, raised to the minimum of 1` : `= ${raw} volumes for CSI`);
  return { limit: b.computedLimit, explanation };
}
