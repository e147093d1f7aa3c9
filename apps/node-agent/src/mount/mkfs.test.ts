import { describe, expect, it } from 'vitest';
import { mkfsArgs, parseFormatOptions } from './mkfs.js';

describe('format options', () => {
  it('reads ext4 options case-insensitively and builds mkfs.ext4 arguments', () => {
    const o = parseFormatOptions('ext4', {
      blocksize: '4096',
      inodeSize: '512',
      bytesPerInode: '8192',
      numberOfInodes: '1000',
      ext4BigAlloc: 'true',
      ext4ClusterSize: '65536',
      unrelated: 'x',
    });
    expect(o).toEqual({ blockSize: 4096, inodeSize: 512, bytesPerInode: 8192, numberOfInodes: 1000, ext4BigAlloc: true, ext4ClusterSize: 65536 });
    expect(mkfsArgs('ext4', '/dev/nvme1n1', o)).toEqual({
      cmd: 'mkfs.ext4',
      args: ['-F', '-b', '4096', '-I', '512', '-i', '8192', '-N', '1000', '-O', 'bigalloc', '-C', '65536', '/dev/nvme1n1'],
    });
  });

  it("turns on ext4's fscrypt feature for ext4EncryptionSupport, with bigalloc in one -O; ext4 only", () => {
    const o = parseFormatOptions('ext4', { ext4EncryptionSupport: 'true', ext4BigAlloc: 'true' });
    expect(mkfsArgs('ext4', '/dev/x', o).args).toEqual(['-F', '-O', 'bigalloc,encrypt', '/dev/x']);
    expect(mkfsArgs('ext4', '/dev/x', parseFormatOptions('ext4', { ext4encryptionsupport: 'true' })).args).toEqual(['-F', '-O', 'encrypt', '/dev/x']);
    expect(() => parseFormatOptions('xfs', { ext4EncryptionSupport: 'true' })).toThrow(/ext4EncryptionSupport is not supported for xfs/);
    expect(() => parseFormatOptions('ext4', { ext4EncryptionSupport: 'yes' })).toThrow(/ext4EncryptionSupport: expected "true" or "false"/);
  });

  it('builds mkfs.xfs arguments without a force flag', () => {
    expect(mkfsArgs('xfs', '/dev/x', parseFormatOptions('xfs', { blockSize: '4096', inodeSize: '512' }))).toEqual({
      cmd: 'mkfs.xfs',
      args: ['-b', 'size=4096', '-i', 'size=512', '/dev/x'],
    });
  });

  it('rejects options that do not apply to the filesystem, naming the key', () => {
    expect(() => parseFormatOptions('xfs', { bytesPerInode: '4096' })).toThrow(/bytesPerInode is not supported for xfs/);
    expect(() => parseFormatOptions('ext3', { ext4BigAlloc: 'true' })).toThrow(/ext4BigAlloc is not supported for ext3/);
    expect(() => parseFormatOptions('xfs', { numberOfInodes: '10' })).toThrow(/numberOfInodes/);
  });

  it('rejects malformed and out-of-range values', () => {
    const bad: Record<string, string>[] = [
      { blockSize: '3000' },
      { blockSize: '-1' },
      { blockSize: '4k' },
      { inodeSize: '100' },
      { bytesPerInode: '10' },
      { ext4BigAlloc: 'yes' },
      { ext4ClusterSize: '65536' }, // without bigalloc
      { ext4BigAlloc: 'true', ext4ClusterSize: '1000' },
    ];
    for (const ctx of bad) {
      expect(() => parseFormatOptions('ext4', ctx), JSON.stringify(ctx)).toThrow(/volume_context\./);
    }
    expect(() => parseFormatOptions('xfs', { blockSize: '3000' })).toThrow(/blockSize/);
  });
});
