import { describe, expect, it } from 'vitest';
import { blockCap, blockTargetOf, fakeContext, KUBELET_ROOT, mountCap, stagingOf, targetOf, VOL } from './fake-context.js';
import { nodePublishVolume } from './publish.js';
import { nodeStageVolume } from './stage.js';
import { nodeUnpublishVolume } from './unpublish.js';

async function published(block = false) {
  const { ctx, os } = fakeContext();
  const dev = os.addDevice({ volumeId: VOL });
  const cap = block ? blockCap() : mountCap();
  const targetPath = block ? blockTargetOf(VOL) : targetOf(VOL);
  await nodeStageVolume(ctx, { volumeId: VOL, stagingTargetPath: stagingOf(VOL), volumeCapability: cap, publishContext: {}, secrets: {}, volumeContext: {} });
  await nodePublishVolume(ctx, {
    volumeId: VOL,
    stagingTargetPath: stagingOf(VOL),
    targetPath,
    volumeCapability: cap,
    readonly: false,
    publishContext: {},
    secrets: {},
    volumeContext: {},
  });
  return { ctx, os, dev, targetPath };
}

describe('NodeUnpublishVolume', () => {
  it('unmounts and removes the target directory; the staging mount stays; a second call is OK', async () => {
    const { ctx, os } = await published();
    await expect(nodeUnpublishVolume(ctx, { volumeId: VOL, targetPath: targetOf(VOL) })).resolves.toEqual({});
    expect(await os.pathInfo(targetOf(VOL))).toBeUndefined();
    expect((await os.mounts()).map((m) => m.mountPoint)).toEqual([stagingOf(VOL)]);
    await expect(nodeUnpublishVolume(ctx, { volumeId: VOL, targetPath: targetOf(VOL) })).resolves.toEqual({});
    expect(os.callsOf('unmount')).toHaveLength(1);
  });

  it('block: unmounts the device and removes the empty file it was bound onto', async () => {
    const { ctx, os, targetPath } = await published(true);
    await nodeUnpublishVolume(ctx, { volumeId: VOL, targetPath });
    expect(await os.pathInfo(targetPath)).toBeUndefined();
    expect(await os.mounts()).toEqual([]);
  });

  it('leaves a target that is not mounted but has content: FAILED_PRECONDITION for a directory, a non-empty file stays', async () => {
    const { ctx, os } = fakeContext();
    os.addFile(`${targetOf(VOL)}/data.txt`, 10);
    await expect(nodeUnpublishVolume(ctx, { volumeId: VOL, targetPath: targetOf(VOL) })).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: `target_path ${targetOf(VOL)} is not mounted but not empty; left in place`,
    });
    expect(await os.pathInfo(`${targetOf(VOL)}/data.txt`)).toEqual({ kind: 'file', size: 10 });

    const file = `${KUBELET_ROOT}/plugins/volumeDevices/publish/${VOL}/pod-9`;
    os.addFile(file, 4096);
    await nodeUnpublishVolume(ctx, { volumeId: VOL, targetPath: file });
    expect(await os.pathInfo(file)).toEqual({ kind: 'file', size: 4096 });
  });

  it('validates target_path, including a symlink out of the kubelet root', async () => {
    const { ctx, os } = fakeContext();
    await expect(nodeUnpublishVolume(ctx, { volumeId: VOL, targetPath: '' })).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('target_path') as string,
    });
    os.addDir('/outside/mount');
    os.link(`${KUBELET_ROOT}/sneaky`, '/outside');
    await expect(nodeUnpublishVolume(ctx, { volumeId: VOL, targetPath: `${KUBELET_ROOT}/sneaky/mount` })).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('leads outside the kubelet root') as string,
    });
    expect(await os.pathInfo('/outside/mount')).toMatchObject({ kind: 'directory' });
  });
});
