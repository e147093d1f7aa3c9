import { describe, expect, it } from 'vitest';
import { computeAttachLimit, nonCsiBlockDevices } from './limits.js';

const m5 = {
  InstanceType: 'm5.large',
  Hypervisor: 'nitro',
  EbsInfo: { MaximumEbsAttachments: 28, AttachmentLimitType: 'shared' },
  NetworkInfo: { MaximumNetworkInterfaces: 3 },
};
const root = { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-root', DeleteOnTermination: true } };
const csi = { DeviceName: '/dev/xvdba', Ebs: { VolumeId: 'vol-csi', DeleteOnTermination: false } };

describe('computeAttachLimit', () => {
  it('subtracts root, extra ENIs and instance-store NVMe on a shared limit', () => {
    const r = computeAttachLimit({
      instanceType: { ...m5, InstanceType: 'm5d.large', InstanceStorageInfo: { NvmeSupport: 'required', Disks: [{ Count: 1 }] } },
      instance: { RootDeviceName: '/dev/xvda', BlockDeviceMappings: [root, csi], NetworkInterfaces: [{}, {}] },
    });
    // 28 - root - 1 extra ENI - 1 instance store; the CSI volume does not count against itself.
    expect(r.limit).toBe(25);
    expect(r.explanation.join('\n')).toMatch(/m5d.large: EBS attachment limit 28 \(shared\)[\s\S]*non-CSI block device\(s\): \/dev\/xvda[\s\S]*1 network interface[\s\S]*1 NVMe instance-store[\s\S]*= 25/);
  });

  it('counts launch-time data volumes (DeleteOnTermination) as non-CSI', () => {
    const data = { DeviceName: '/dev/xvdb', Ebs: { VolumeId: 'vol-data', DeleteOnTermination: true } };
    expect(nonCsiBlockDevices({ RootDeviceName: '/dev/xvda', BlockDeviceMappings: [root, data, csi] })).toEqual(['/dev/xvda', '/dev/xvdb']);
    expect(computeAttachLimit({ instanceType: m5, instance: { RootDeviceName: '/dev/xvda', BlockDeviceMappings: [root, data, csi], NetworkInterfaces: [{}] } }).limit).toBe(26);
  });

  it('on a dedicated limit only EBS devices count', () => {
    const r = computeAttachLimit({
      instanceType: { InstanceType: 'm7i.48xlarge', EbsInfo: { MaximumEbsAttachments: 128, AttachmentLimitType: 'dedicated' }, InstanceStorageInfo: { NvmeSupport: 'required', Disks: [{ Count: 2 }] } },
      instance: { RootDeviceName: '/dev/xvda', BlockDeviceMappings: [root], NetworkInterfaces: [{}, {}, {}] },
    });
    expect(r.limit).toBe(127);
  });

  it('counts the root device even when its mapping is missing', () => {
    expect(computeAttachLimit({ instanceType: m5, instance: { RootDeviceName: '/dev/sda1', BlockDeviceMappings: [], NetworkInterfaces: [{}] } }).limit).toBe(27);
  });

  it('never goes below 1', () => {
    const r = computeAttachLimit({
      instanceType: { InstanceType: 'tiny', EbsInfo: { MaximumEbsAttachments: 3, AttachmentLimitType: 'shared' } },
      instance: { RootDeviceName: '/dev/xvda', BlockDeviceMappings: [root], NetworkInterfaces: [{}, {}, {}, {}] },
    });
    expect(r.limit).toBe(1);
    expect(r.explanation.at(-1)).toMatch(/raised to the minimum of 1/);
  });

  it('falls back to the Nitro or Xen default when EC2 reports no limit, and says so', () => {
    const nitro = computeAttachLimit({ instanceType: { InstanceType: 't3.micro', Hypervisor: 'nitro' }, instance: { RootDeviceName: '/dev/xvda', NetworkInterfaces: [{}] } });
    expect(nitro.limit).toBe(27);
    expect(nitro.explanation[0]).toMatch(/no EBS attachment limit; assuming 28/);
    expect(computeAttachLimit({ instanceType: { InstanceType: 'm4.large', Hypervisor: 'xen' }, instance: { RootDeviceName: '/dev/xvda', NetworkInterfaces: [{}, {}] } }).limit).toBe(38);
  });

  it('an override wins', () => {
    const r = computeAttachLimit({ instanceType: m5, override: 5 });
    expect(r).toEqual({ limit: 5, explanation: ['MAX_VOLUMES_PER_NODE=5 overrides the computed limit'] });
  });
});
