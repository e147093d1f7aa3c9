import type { NodeExpandVolumeRequest } from '@plinth/csi';
import { failedPrecondition } from '@plinth/errors';
import { describe, expect, it } from 'vitest';
import { nodeExpandVolume } from './expand.js';
import { blockCap, blockTargetOf, fakeContext, KUBELET_ROOT, mountCap, OTHER, stagedVolume, stagingOf, targetOf, VOL } from './fake-context.js';
import { nodePublishVolume } from './publish.js';

const MiB = 1024 * 1024;
const req = (over: Partial<NodeExpandVolumeRequest> = {}): NodeExpandVolumeRequest => ({
  volumeId: VOL,
  volumePath: targetOf(VOL),
  stagingTargetPath: stagingOf(VOL),
  capacityRange: undefined,
  volumeCapability: undefined,
  secrets: {},
  ...over,
});

const published = (fsType = 'ext4') => stagedVolume({ size: 512 * MiB, cap: mountCap(fsType), publish: true });

describe('NodeExpandVolume', () => {
  for (const fsType of ['ext4', 'xfs']) {
    it(`grows a mounted ${fsType} filesystem online to the grown device and reports the device size; again is a no-op`, async () => {
      const { ctx, os, dev } = await published(fsType);
      os.grow(dev.name, 768 * MiB);
      await expect(nodeExpandVolume(ctx, req({ capacityRange: { requiredBytes: 768 * MiB, limitBytes: 0 } }))).resolves.toEqual({ capacityBytes: 768 * MiB });
      expect(os.callsOf('growOnline')).toEqual([[fsType, `/dev/${dev.name}`, targetOf(VOL)]]);
      expect(dev.fs?.size).toBe(768 * MiB);
      await expect(nodeExpandVolume(ctx, req())).resolves.toEqual({ capacityBytes: 768 * MiB });
      expect(os.callsOf('growOnline')).toHaveLength(1);
    });
  }

  it('a device smaller than required_bytes is FAILED_PRECONDITION (the resize is not visible yet) and nothing is grown', async () => {
    const { ctx, os } = await published();
    await expect(nodeExpandVolume(ctx, req({ capacityRange: { requiredBytes: 1024 * MiB, limitBytes: 0 } }))).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringMatching(/is 536870912 bytes, less than the required 1073741824; the resize is not visible on this node yet/) as string,
    });
    expect(os.callsOf('growOnline')).toEqual([]);
  });

  it('block: reports the device size and grows nothing', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL, size: 16 * MiB });
    await nodePublishVolume(ctx, {
      volumeId: VOL,
      stagingTargetPath: '',
      targetPath: blockTargetOf(VOL),
      volumeCapability: blockCap(),
      readonly: false,
      publishContext: {},
      secrets: {},
      volumeContext: {},
    });
    os.grow(dev.name, 48 * MiB);
    await expect(nodeExpandVolume(ctx, req({ volumePath: blockTargetOf(VOL), volumeCapability: blockCap() }))).resolves.toEqual({ capacityBytes: 48 * MiB });
    // Without a capability the path (a device node, not a directory) decides the same way.
    await expect(nodeExpandVolume(ctx, req({ volumePath: blockTargetOf(VOL) }))).resolves.toEqual({ capacityBytes: 48 * MiB });
    expect(os.callsOf('growOnline')).toEqual([]);
  });

  it("the volume path must be mounted, from this volume's device", async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    os.addDir(targetOf(VOL));
    await expect(nodeExpandVolume(ctx, req())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: `volume ${VOL} is not mounted at ${targetOf(VOL)}`,
    });

    const other = os.addDevice({ volumeId: OTHER, fs: 'ext4' });
    await os.mount(`/dev/${other.name}`, targetOf(VOL), 'ext4', []);
    await expect(nodeExpandVolume(ctx, req())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining(`not from volume ${VOL}`) as string,
    });
    expect(os.callsOf('growOnline')).toEqual([]);
  });

  it('a refused online resize (no CAP_SYS_RESOURCE) reaches the caller as FAILED_PRECONDITION', async () => {
    const { ctx, os, dev } = await published();
    os.grow(dev.name, 768 * MiB);
    os.failNext('growOnline', failedPrecondition('online ext4 resize of /dev/nvme1n1 was refused by the kernel: the node agent lacks CAP_SYS_RESOURCE'));
    await expect(nodeExpandVolume(ctx, req())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('CAP_SYS_RESOURCE') as string,
    });
  });

  it('validates: volume_path required and without "..", a volume that cannot be here or a missing path is NOT_FOUND', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    await expect(nodeExpandVolume(ctx, req({ volumePath: '' }))).rejects.toMatchObject({ kind: 'InvalidArgument', message: 'volume_path is required' });
    await expect(nodeExpandVolume(ctx, req({ volumePath: `${KUBELET_ROOT}/../x` }))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('volume_path') as string,
    });
    await expect(nodeExpandVolume(ctx, req({ volumeId: 'fake-vol-id-2' }))).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining('fake-vol-id-2') as string,
    });
    await expect(nodeExpandVolume(ctx, req({ volumePath: '/elsewhere/mount' }))).rejects.toMatchObject({ kind: 'NotFound' });
    await expect(nodeExpandVolume(ctx, req())).rejects.toMatchObject({
      kind: 'NotFound',
      message: `volume_path ${targetOf(VOL)} does not exist for volume ${VOL}`,
    });
    await expect(nodeExpandVolume(ctx, req({ stagingTargetPath: 'relative' }))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('staging_target_path') as string,
    });
  });
});
