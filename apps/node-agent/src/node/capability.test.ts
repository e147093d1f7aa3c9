import { describe, expect, it } from 'vitest';
import { VolumeCapability_AccessMode_Mode as Mode } from '@plinth/csi';
import { parseCapability } from './capability.js';
import { stageMountOptions } from './stage.js';

const mount = (fsType: string, mountFlags: string[] = [], mode = Mode.SINGLE_NODE_WRITER) => ({
  mount: { fsType, mountFlags, volumeMountGroup: '' },
  accessMode: { mode },
});

describe('parseCapability', () => {
  it('defaults to ext4 and splits mount flags', () => {
    expect(parseCapability(mount('', ['noatime,nodiratime', 'discard']))).toEqual({
      kind: 'mount',
      mode: Mode.SINGLE_NODE_WRITER,
      fsType: 'ext4',
      mountFlags: ['noatime', 'nodiratime', 'discard'],
    });
  });
  it('allows multi-node multi-writer only for block', () => {
    expect(parseCapability({ block: {}, accessMode: { mode: Mode.MULTI_NODE_MULTI_WRITER } }).kind).toBe('block');
    expect(() => parseCapability(mount('ext4', [], Mode.MULTI_NODE_MULTI_WRITER))).toThrow(/MULTI_NODE_MULTI_WRITER is not supported for filesystem/);
  });
  it('rejects missing pieces, unknown filesystems and flags that change what is mounted', () => {
    expect(() => parseCapability(undefined)).toThrow(/volume_capability is required/);
    expect(() => parseCapability({ mount: { fsType: 'ext4', mountFlags: [], volumeMountGroup: '' }, accessMode: undefined })).toThrow(/access_mode/);
    expect(() => parseCapability(mount('ntfs'))).toThrow(/fs_type "ntfs"/);
    expect(() => parseCapability(mount('ext4', ['bind']))).toThrow(/"bind" is not allowed/);
    expect(() => parseCapability(mount('ext4', ['x;rm -rf /']))).toThrow(/not allowed/);
  });
  it('adds nouuid for xfs staging mounts', () => {
    expect(stageMountOptions('xfs', ['noatime'])).toEqual(['defaults', 'noatime', 'nouuid']);
    expect(stageMountOptions('ext4', [])).toEqual(['defaults']);
  });
});
