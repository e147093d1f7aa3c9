import { VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';
import { describe, expect, it } from 'vitest';
import { capabilityProblem, checkCapabilities } from './access.js';

const mount = (mode: Mode, fsType = 'ext4'): VolumeCapability => ({ accessMode: { mode }, mount: { fsType, mountFlags: [], volumeMountGroup: '' } });
const block = (mode: Mode): VolumeCapability => ({ accessMode: { mode }, block: {} });

describe('access modes', () => {
  it('serves single-node modes on any type', () => {
    for (const m of [Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_READER_ONLY, Mode.SINGLE_NODE_SINGLE_WRITER, Mode.SINGLE_NODE_MULTI_WRITER])
      expect(capabilityProblem(mount(m), 'gp3')).toBeUndefined();
  });

  it('serves multi-node writers only for io2 block volumes', () => {
    expect(capabilityProblem(block(Mode.MULTI_NODE_MULTI_WRITER), 'io2')).toBeUndefined();
    expect(capabilityProblem(block(Mode.MULTI_NODE_MULTI_WRITER), 'gp3')).toMatch(/needs an io2 volume/);
    expect(capabilityProblem(mount(Mode.MULTI_NODE_MULTI_WRITER), 'io2')).toMatch(/needs a block volume/);
    expect(capabilityProblem(mount(Mode.MULTI_NODE_READER_ONLY), 'io2')).toMatch(/not supported/);
    expect(checkCapabilities([block(Mode.MULTI_NODE_MULTI_WRITER)], 'io2')).toEqual({ multiAttach: true });
  });

  it('rejects missing or unknown parts', () => {
    expect(() => checkCapabilities([], 'gp3')).toThrow(/volume_capabilities is required/);
    expect(capabilityProblem({ accessMode: undefined, mount: { fsType: '', mountFlags: [], volumeMountGroup: '' } }, 'gp3')).toMatch(/access_mode/);
    expect(capabilityProblem({ accessMode: { mode: Mode.SINGLE_NODE_WRITER } }, 'gp3')).toMatch(/access_type/);
    expect(capabilityProblem(mount(Mode.SINGLE_NODE_WRITER, 'ntfs'), 'gp3')).toMatch(/ntfs/);
  });
});
