import type { BlockDeviceInfo, InstanceInfo } from './types.js';
import { describe, expect, it } from 'vitest';
import { limitBreakdown } from './attach-limits.js';

const dev = (device: string, volumeId: string, deleteOnTermination: boolean): BlockDeviceInfo => ({ device, volumeId, deleteOnTermination });
const instance = (o: Partial<InstanceInfo>): InstanceInfo => ({
  id: 'i-1',
  type: 'm5.large',
  zone: 'z',
  state: 'running',
  blockDevices: [],
  networkInterfaceCount: 1,
  ...o,
});

describe('limitBreakdown', () => {
  it('takes root and instance-created devices, extra ENIs and NVMe instance store off a shared limit', () => {
    const b = limitBreakdown(
      instance({
        rootDevice: '/dev/xvda',
        blockDevices: [dev('/dev/xvda', 'vol-1', true), dev('/dev/xvdb', 'vol-2', true), dev('/dev/xvdaa', 'vol-3', false)],
        networkInterfaceCount: 3,
      }),
      { name: 'm5d.large', maxEbsAttachments: 28, attachmentLimitType: 'shared', nvmeInstanceStoreDisks: 1 },
    );
    expect(b).toEqual({
      typeLimit: 28,
      limitType: 'shared',
      nonCsiDevices: ['/dev/xvda', '/dev/xvdb'],
      extraNetworkInterfaces: 2,
      instanceStoreDevices: 1,
      computedLimit: 23,
      assumed: false,
    });
  });

  it('counts only block devices against a dedicated limit', () => {
    const b = limitBreakdown(instance({ rootDevice: '/dev/xvda', networkInterfaceCount: 2 }), {
      name: 't',
      maxEbsAttachments: 128,
      attachmentLimitType: 'dedicated',
      nvmeInstanceStoreDisks: 2,
    });
    expect(b).toMatchObject({ limitType: 'dedicated', nonCsiDevices: ['/dev/xvda'], extraNetworkInterfaces: 0, instanceStoreDevices: 0, computedLimit: 127 });
  });

  it('assumes the Nitro default when EC2 reports no limit, and never goes below 1', () => {
    expect(limitBreakdown(undefined, undefined)).toMatchObject({ typeLimit: 28, assumed: true, computedLimit: 28 });
    expect(limitBreakdown(instance({ networkInterfaceCount: 40 }), { name: 't', maxEbsAttachments: 28, nvmeInstanceStoreDisks: 0 }).computedLimit).toBe(1);
  });
});
