import { describe, expect, it } from 'vitest';
import { isInstanceId, isJobId, isSnapshotId, isVolumeId, isZone } from './ids.js';

describe('EC2 id formats', () => {
  it('accepts short and long volume, instance and snapshot ids', () => {
    expect(isVolumeId('vol-0123abcd')).toBe(true);
    expect(isVolumeId('vol-0123456789abcdef0')).toBe(true);
    expect(isInstanceId('i-0123456789abcdef0')).toBe(true);
    expect(isInstanceId('i-1a2b3c4d')).toBe(true);
    expect(isSnapshotId('snap-0123456789abcdef0')).toBe(true);
  });

  it('rejects wrong prefixes, lengths, cases and injection attempts', () => {
    for (const bad of ['vol-123', 'vol-0123456789ABCDEF0', 'vol-0123456789abcdef', 'i-0123456789abcdef0', 'vol-0123456789abcdef0 ', "vol-0123abcd' or 1=1", ''])
      expect(isVolumeId(bad)).toBe(false);
    expect(isInstanceId('vol-0123456789abcdef0')).toBe(false);
    expect(isSnapshotId('snap-xyz')).toBe(false);
  });

  it('accepts job ids BullMQ hands out and refuses path tricks', () => {
    expect(isJobId('42')).toBe(true);
    expect(isJobId('create:pvc-1')).toBe(true);
    expect(isJobId('../etc')).toBe(false);
    expect(isJobId('a b')).toBe(false);
  });

  it('knows zone names, including local zones', () => {
    expect(isZone('us-east-1a')).toBe(true);
    expect(isZone('us-gov-west-1b')).toBe(true);
    expect(isZone('us-west-2-lax-1a')).toBe(true);
    expect(isZone('us-east-1')).toBe(false);
    expect(isZone('US-EAST-1A')).toBe(false);
  });
});
