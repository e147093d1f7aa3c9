import type { InstanceInfo, InstanceTypeInfo } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { nonCsiBlockDevices } from '@plinth/cloud';
import { computeAttachLimit } from './limits.js';

const m5: InstanceTypeInfo = { name: 'm5.large', hypervisor: 'nitro', maxEbsAttachments: 28, attachmentLimitType: 'shared', nvmeInstanceStoreDisks: 0 };
const type = (o: Partial<InstanceTypeInfo> & { name: string }): InstanceTypeInfo => ({ nvmeInstanceStoreDisks: 0, ...o });
const root = { device: '/dev/xvda', volumeId: 'vol-root', deleteOnTermination: true };
const csi = { device: '/dev/xvdba', volumeId: 'vol-csi', deleteOnTermination: false };
const instance = (o: Partial<InstanceInfo>): InstanceInfo => ({
  id: 'i-1',
  type: 'm5.large',
  zone: 'z',
  state: 'running',
  blockDevices: [],
  networkInterfaceCount: 1,
  ...o,
});

describe('computeAttachLimit', () => {
  it('subtracts root, extra ENIs and instance-store NVMe on a shared limit', () => {
    const r = computeAttachLimit({
      instanceType: { ...m5, name: 'm5d.large', nvmeInstanceStoreDisks: 1 },
      instance: instance({ rootDevice: '/dev/xvda', blockDevices: [root, csi], networkInterfaceCount: 2 }),
    });
    // 28 - root - 1 extra ENI - 1 instance store; the CSI volume does not count against itself.
    expect(r.limit).toBe(25);
    expect(r.explanation.join('\n')).toMatch(
      /m5d.large: EBS attachment limit 28 \(shared\)[\s\S]*non-CSI block device\(s\): \/dev\/xvda[\s\S]*1 network interface[\s\S]*1 NVMe instance-store[\s\S]*= 25/,
    );
  });

  it('counts launch-time data volumes (DeleteOnTermination) as non-CSI', () => {
    const data = { device: '/dev/xvdb', volumeId: 'vol-data', deleteOnTermination: true };
    expect(nonCsiBlockDevices(instance({ rootDevice: '/dev/xvda', blockDevices: [root, data, csi] }))).toEqual(['/dev/xvda', '/dev/xvdb']);
    expect(computeAttachLimit({ instanceType: m5, instance: instance({ rootDevice: '/dev/xvda', blockDevices: [root, data, csi] }) }).limit).toBe(26);
  });

  it('on a dedicated limit only EBS devices count', () => {
    const r = computeAttachLimit({
      instanceType: { name: 'm7i.48xlarge', maxEbsAttachments: 128, attachmentLimitType: 'dedicated', nvmeInstanceStoreDisks: 2 },
      instance: instance({ rootDevice: '/dev/xvda', blockDevices: [root], networkInterfaceCount: 3 }),
    });
    expect(r.limit).toBe(127);
  });

  it('counts the root device even when its mapping is missing', () => {
    expect(computeAttachLimit({ instanceType: m5, instance: instance({ rootDevice: '/dev/sda1' }) }).limit).toBe(27);
  });

  it('never goes below 1', () => {
    const r = computeAttachLimit({
      instanceType: type({ name: 'tiny', maxEbsAttachments: 3, attachmentLimitType: 'shared' }),
      instance: instance({ rootDevice: '/dev/xvda', blockDevices: [root], networkInterfaceCount: 4 }),
    });
    expect(r.limit).toBe(1);
    expect(r.explanation.at(-1)).toMatch(/raised to the minimum of 1/);
  });

  it('falls back to the Nitro or Xen default when EC2 reports no limit, and says so', () => {
    const nitro = computeAttachLimit({ instanceType: type({ name: 't3.micro', hypervisor: 'nitro' }), instance: instance({ rootDevice: '/dev/xvda' }) });
    expect(nitro.limit).toBe(27);
    expect(nitro.explanation[0]).toMatch(/no EBS attachment limit; assuming 28/);
    expect(
      computeAttachLimit({
        instanceType: type({ name: 'm4.large', hypervisor: 'xen' }),
        instance: instance({ rootDevice: '/dev/xvda', networkInterfaceCount: 2 }),
      }).limit,
    ).toBe(38);
  });

  it('an override wins', () => {
    const r = computeAttachLimit({ instanceType: m5, override: 5 });
    expect(r).toEqual({ limit: 5, explanation: ['MAX_VOLUMES_PER_NODE=5 overrides the computed limit'] });
  });
});
