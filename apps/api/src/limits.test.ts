import { describe, expect, it } from 'vitest';
import { limitBreakdown } from './limits.js';

describe('limitBreakdown', () => {
  it('takes root and instance-created devices, extra ENIs and NVMe instance store off a shared limit', () => {
    const b = limitBreakdown(
      {
        RootDeviceName: '/dev/xvda',
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-1', DeleteOnTermination: true } },
          { DeviceName: '/dev/xvdb', Ebs: { VolumeId: 'vol-2', DeleteOnTermination: true } },
          { DeviceName: '/dev/xvdaa', Ebs: { VolumeId: 'vol-3', DeleteOnTermination: false } },
        ],
        NetworkInterfaces: [{}, {}, {}],
      },
      { InstanceType: 'm5d.large', EbsInfo: { MaximumEbsAttachments: 28, AttachmentLimitType: 'shared' }, InstanceStorageInfo: { NvmeSupport: 'required', Disks: [{ Count: 1 }] } },
    );
    expect(b).toEqual({ typeLimit: 28, limitType: 'shared', nonCsiDevices: ['/dev/xvda', '/dev/xvdb'], extraNetworkInterfaces: 2, instanceStoreDevices: 1, computedLimit: 23, assumed: false });
  });

  it('counts only block devices against a dedicated limit', () => {
    const b = limitBreakdown({ RootDeviceName: '/dev/xvda', NetworkInterfaces: [{}, {}] }, { EbsInfo: { MaximumEbsAttachments: 128, AttachmentLimitType: 'dedicated' } });
    expect(b).toMatchObject({ limitType: 'dedicated', nonCsiDevices: ['/dev/xvda'], extraNetworkInterfaces: 0, computedLimit: 127 });
  });

  it('assumes the Nitro default when EC2 reports no limit, and never goes below 1', () => {
    expect(limitBreakdown(undefined, undefined)).toMatchObject({ typeLimit: 28, assumed: true, computedLimit: 28 });
    expect(limitBreakdown({ NetworkInterfaces: Array.from({ length: 40 }, () => ({})) }, { EbsInfo: { MaximumEbsAttachments: 28 } }).computedLimit).toBe(1);
  });
});
