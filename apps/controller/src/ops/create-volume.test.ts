import type { Volume } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { GiB } from '../capacity.js';
import { parseVolumeParams } from '../params.js';
import { clientToken, incompatibility, type CreateVolumeJob } from './create-volume.js';

const job = (over: Partial<CreateVolumeJob> = {}): CreateVolumeJob => ({
  name: 'pvc-1',
  sizeGiB: 10,
  requiredBytes: 10 * GiB,
  limitBytes: 0,
  zone: 'us-east-1a',
  allowedZones: [],
  params: parseVolumeParams({}),
  iops: undefined,
  multiAttach: false,
  ...over,
});
const vol = (over: Partial<Volume> = {}): Volume => ({ VolumeId: 'vol-1', Size: 10, VolumeType: 'gp3', Encrypted: false, AvailabilityZone: 'us-east-1a', ...over });

describe('existing volume compatibility', () => {
  it('accepts a volume that matches the request', () => {
    expect(incompatibility(vol(), job())).toBeUndefined();
  });

  it.each([
    [vol({ Size: 5 }), job(), 'size 5 GiB'],
    [vol({ Size: 20 }), job({ limitBytes: 15 * GiB }), 'size 20 GiB'],
    [vol({ VolumeType: 'gp2' }), job(), 'type is gp2'],
    [vol({ Encrypted: true }), job(), 'encrypted'],
    [vol({ Iops: 3000 }), job({ iops: 4000 }), 'IOPS are 3000'],
    [vol({ AvailabilityZone: 'us-east-1b' }), job({ allowedZones: ['us-east-1a'] }), 'zone us-east-1b'],
  ])('names what differs', (v, j, text) => {
    expect(incompatibility(v, j)).toContain(text);
  });
});

describe('client token', () => {
  it('is stable per name, distinct across names, and fits EC2’s 64 characters', () => {
    expect(clientToken('pvc-1')).toBe(clientToken('pvc-1'));
    expect(clientToken('pvc-1')).not.toBe(clientToken('pvc-2'));
    expect(clientToken('x'.repeat(500))).toHaveLength(64);
  });
});
