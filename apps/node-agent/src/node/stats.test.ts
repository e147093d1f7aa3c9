import { VolumeUsage_Unit } from '@plinth/csi';
import { describe, expect, it } from 'vitest';
import { blockCap, blockTargetOf, fakeContext, KUBELET_ROOT, stagedVolume, stagingOf, targetOf, VOL } from './fake-context.js';
import { nodePublishVolume } from './publish.js';
import { nodeGetVolumeStats } from './stats.js';

const MiB = 1024 * 1024;
const stats = (volumePath = targetOf(VOL), volumeId = VOL) => ({ volumeId, volumePath, stagingTargetPath: '' });
const healthy = { abnormal: false, message: 'volume is healthy' };

const published = () => stagedVolume({ size: 64 * MiB, publish: true });

describe('NodeGetVolumeStats', () => {
  it('reports bytes and inodes of the mounted filesystem from statfs', async () => {
    const { ctx, os, dev } = await published();
    dev.fs!.usedBytes = 4 * MiB;
    dev.fs!.inodesUsed = 20;
    const fs = await os.statfs(targetOf(VOL));
    const res = await nodeGetVolumeStats(ctx, stats());
    expect(res.usage).toEqual([
      { unit: VolumeUsage_Unit.BYTES, total: 64 * MiB, available: fs.bavail * fs.bsize, used: 4 * MiB },
      { unit: VolumeUsage_Unit.INODES, total: fs.files, available: fs.files - 20, used: 20 },
    ]);
    expect(res.volumeCondition).toEqual(healthy);
  });

  it('is abnormal, with empty usage, when the mount is gone from under the path', async () => {
    const { ctx, os } = await published();
    await os.unmount(targetOf(VOL));
    const res = await nodeGetVolumeStats(ctx, stats());
    expect(res.usage).toEqual([]);
    expect(res.volumeCondition).toEqual({ abnormal: true, message: `volume ${VOL} is not mounted at ${targetOf(VOL)} (the mount is gone)` });
  });

  it('is abnormal when the filesystem went read-only under a read-write mount, or the device vanished', async () => {
    const { ctx, os, dev } = await published();
    os.superReadOnly(dev.majMin);
    expect((await nodeGetVolumeStats(ctx, stats())).volumeCondition).toMatchObject({
      abnormal: true,
      message: expect.stringContaining('read-only although mounted read-write') as string,
    });
    os.removeDevice(dev.name);
    expect((await nodeGetVolumeStats(ctx, stats(stagingOf(VOL)))).volumeCondition).toEqual({
      abnormal: true,
      message: `the device of volume ${VOL} (${dev.majMin}) has vanished`,
    });
  });

  it('is abnormal when statfs fails (EIO)', async () => {
    const { ctx, os } = await published();
    os.failNext('statfs', Object.assign(new Error('EIO'), { code: 'EIO' }));
    const res = await nodeGetVolumeStats(ctx, stats());
    expect(res.usage).toEqual([]);
    expect(res.volumeCondition?.message).toContain('cannot be read (EIO)');
  });

  it('block: reports the device size in bytes; abnormal once the device is gone or cannot be read', async () => {
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
    const res = await nodeGetVolumeStats(ctx, stats(blockTargetOf(VOL)));
    expect(res).toEqual({ usage: [{ unit: VolumeUsage_Unit.BYTES, total: 16 * MiB, used: 0, available: 0 }], volumeCondition: healthy });
    os.removeDevice(dev.name, { sysfsOnly: true });
    expect((await nodeGetVolumeStats(ctx, stats(blockTargetOf(VOL)))).volumeCondition).toEqual({
      abnormal: true,
      message: `the device of volume ${VOL} (${dev.majMin}) has vanished`,
    });
    os.removeDevice(dev.name);
    expect(await nodeGetVolumeStats(ctx, stats(blockTargetOf(VOL)))).toEqual({
      usage: [],
      volumeCondition: { abnormal: true, message: `the block device of volume ${VOL} cannot be read at ${blockTargetOf(VOL)}` },
    });
  });

  it('NOT_FOUND for a missing path or a volume that cannot be here; INVALID_ARGUMENT for a bad path', async () => {
    const { ctx } = fakeContext();
    await expect(nodeGetVolumeStats(ctx, stats(`${KUBELET_ROOT}/pods/none/mount`))).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining('does not exist') as string,
    });
    await expect(nodeGetVolumeStats(ctx, stats(targetOf(VOL), 'fake-vol-id-1'))).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining('fake-vol-id-1') as string,
    });
    await expect(nodeGetVolumeStats(ctx, stats('../x'))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('volume_path') as string,
    });
    await expect(nodeGetVolumeStats(ctx, stats(''))).rejects.toMatchObject({ kind: 'InvalidArgument', message: 'volume_path is required' });
  });
});
