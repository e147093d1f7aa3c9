import { failedPrecondition } from '@plinth/errors';
import { describe, expect, it } from 'vitest';
import { mountAt } from '../os/host-os.js';
import { fakeContext, stagedVolume, stagingOf, VOL } from './fake-context.js';
import { nodeUnstageVolume } from './unstage.js';

const unstage = { volumeId: VOL, stagingTargetPath: stagingOf(VOL) };

const staged = () => stagedVolume();

describe('NodeUnstageVolume', () => {
  it("unmounts the staging path and keeps the directory (it is kubelet's); a second call is OK and unmounts nothing", async () => {
    const { ctx, os } = await staged();
    await expect(nodeUnstageVolume(ctx, unstage)).resolves.toEqual({});
    expect(await mountAt(os, stagingOf(VOL))).toBeUndefined();
    expect(await os.pathInfo(stagingOf(VOL))).toMatchObject({ kind: 'directory' });
    await expect(nodeUnstageVolume(ctx, unstage)).resolves.toEqual({});
    expect(os.callsOf('unmount')).toHaveLength(1);
  });

  it('is OK when the staging path never existed', async () => {
    const { ctx, os } = fakeContext();
    await expect(nodeUnstageVolume(ctx, unstage)).resolves.toEqual({});
    expect(os.callsOf('unmount')).toEqual([]);
  });

  it('unmounts every mount stacked at the staging path', async () => {
    const { ctx, os, dev } = await staged();
    await os.mount(`/dev/${dev.name}`, stagingOf(VOL), 'ext4', []);
    expect((await os.mounts()).filter((m) => m.mountPoint === stagingOf(VOL))).toHaveLength(2);
    await nodeUnstageVolume(ctx, unstage);
    expect(await os.mounts()).toEqual([]);
  });

  it('a failing umount is FAILED_PRECONDITION with its reason, and the mount stays', async () => {
    const { ctx, os } = await staged();
    os.failNext('unmount', failedPrecondition(`umount ${stagingOf(VOL)} failed: target is busy.`));
    await expect(nodeUnstageVolume(ctx, unstage)).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('target is busy') as string,
    });
    expect(await mountAt(os, stagingOf(VOL))).toBeDefined();
  });

  it('validates volume_id and staging_target_path', async () => {
    const { ctx } = fakeContext();
    await expect(nodeUnstageVolume(ctx, { volumeId: '', stagingTargetPath: stagingOf(VOL) })).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('volume_id') as string,
    });
    await expect(nodeUnstageVolume(ctx, { volumeId: VOL, stagingTargetPath: '/mnt/x' })).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('staging_target_path') as string,
    });
  });
});
