import { describe, expect, it } from 'vitest';
import { attachmentName } from './find.js';
import { isEbsModel, majMinOf, serialMatches, serialOf, validateVolumeId } from './identity.js';

describe('volume identity', () => {
  it('maps a volume id to the EBS NVMe serial and matches padded sysfs values', () => {
    expect(serialOf('vol-0123456789abcdef0')).toBe('vol0123456789abcdef0');
    expect(serialMatches('vol0123456789abcdef0      \n', 'vol-0123456789abcdef0')).toBe(true);
    expect(serialMatches('vol0123456789abcdef1', 'vol-0123456789abcdef0')).toBe(false);
    expect(isEbsModel('Amazon Elastic Block Store              ')).toBe(true);
    expect(isEbsModel('Amazon EC2 NVMe Instance Storage')).toBe(false);
  });

  it('rejects ids that are not EBS volume ids', () => {
    expect(() => validateVolumeId('')).toThrow(/volume_id is required/);
    expect(() => validateVolumeId('vol-XYZ')).toThrow(/not an EBS volume id/);
    expect(() => validateVolumeId('../../etc')).toThrow(/volume_id/);
    expect(() => validateVolumeId('vol-0123abcd')).not.toThrow();
  });

  it('decodes dev_t the way the kernel prints major:minor', () => {
    expect(majMinOf(BigInt((7 << 8) | 3))).toBe('7:3');
    expect(majMinOf(BigInt((259 << 8) | 1))).toBe('259:1');
    // glibc encoding of a large minor: 259:300
    const dev = (259n << 8n) | (300n & 0xffn) | ((300n & ~0xffn) << 12n);
    expect(majMinOf(dev)).toBe('259:300');
  });

  it('takes the name under /dev of a publish_context device path, and refuses anything else', () => {
    expect(attachmentName('/dev/xvdba')).toBe('xvdba');
    for (const p of ['/dev/../etc/passwd', '/etc/xvdba', 'xvdba', '/dev/disk/by-id/x']) {
      expect(() => attachmentName(p)).toThrow(/devicePath/);
    }
  });
});
