import { VolumeCapability_AccessMode_Mode as Mode } from '@plinth/csi';
import { describe, expect, it } from 'vitest';
import { mountAt } from '../os/host-os.js';
import { blockCap, blockTargetOf, fakeContext, mountCap, OTHER, publishReq, stageReq, stagingOf, targetOf, VOL } from './fake-context.js';
import { nodePublishVolume } from './publish.js';
import { nodeStageVolume } from './stage.js';
import { nodeGetVolumeStats } from './stats.js';
import { nodeUnpublishVolume } from './unpublish.js';
import { nodeUnstageVolume } from './unstage.js';

/** A node-local handle, as the static PV carries it; kubelet names its paths by a hash of the handle. */
const HANDLE = 'local-ebs://dev/xvdbz';
const KEY = 'b1f0c2d4e6a8';
/** What ControllerPublish answers for HANDLE on this node: the device and the EBS volume (VOL) mapped there. */
const published = { devicePath: '/dev/xvdbz', volumeID: VOL };
const stage = (over: Parameters<typeof stageReq>[0] = {}) =>
  stageReq({ volumeId: HANDLE, stagingTargetPath: stagingOf(KEY), publishContext: published, volumeCapability: mountCap('xfs'), ...over });
const publish = (over: Parameters<typeof publishReq>[0] = {}) =>
  publishReq({
    volumeId: HANDLE,
    stagingTargetPath: stagingOf(KEY),
    targetPath: targetOf(KEY),
    publishContext: published,
    volumeCapability: mountCap('xfs'),
    ...over,
  });

describe('node-local volumes on the node', () => {
  it('stages the device proven by the NVMe serial of the volume publish_context names: formatted when blank, then mounted', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL });
    os.link('/dev/xvdbz', dev.name);
    await expect(nodeStageVolume(ctx, stage())).resolves.toEqual({});
    expect(os.callsOf('mkfs')).toEqual([['xfs', `/dev/${dev.name}`, {}]]);
    expect(await mountAt(os, stagingOf(KEY))).toMatchObject({ majMin: dev.majMin, fsType: 'xfs' });
    await nodePublishVolume(ctx, publish());
    expect((await mountAt(os, targetOf(KEY)))?.majMin).toBe(dev.majMin);
  });

  it('never formats or mounts without the volume to prove the device by: no publish_context volumeID is INVALID_ARGUMENT', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL });
    os.link('/dev/xvdbz', dev.name);
    const contexts: Record<string, string>[] = [{ devicePath: '/dev/xvdbz' }, { devicePath: '/dev/xvdbz', volumeID: 'xvdbz' }];
    for (const publishContext of contexts) {
      await expect(nodeStageVolume(ctx, stage({ publishContext }))).rejects.toMatchObject({
        kind: 'InvalidArgument',
        message: expect.stringContaining('publish_context.volumeID') as string,
      });
    }
    expect(os.callsOf('probe')).toEqual([]);
    expect(os.callsOf('mkfs')).toEqual([]);
    expect(await os.mounts()).toEqual([]);
  });

  it('never touches the device at the path when its serial is another volume: FAILED_PRECONDITION, nothing formatted', async () => {
    const { ctx, os } = fakeContext();
    const other = os.addDevice({ volumeId: OTHER });
    os.link('/dev/xvdbz', other.name);
    await expect(nodeStageVolume(ctx, stage())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('vol0fedcba9876543210') as string,
    });
    expect(os.callsOf('mkfs')).toEqual([]);
    expect(await os.mounts()).toEqual([]);
  });

  it('refuses a publish_context device path other than the handle names, and a malformed handle', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    await expect(nodeStageVolume(ctx, stage({ publishContext: { devicePath: '/dev/xvdba', volumeID: VOL } }))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('is not /dev/xvdbz') as string,
    });
    await expect(nodeStageVolume(ctx, stage({ volumeId: 'local-ebs://xvdbz' }))).rejects.toMatchObject({ kind: 'InvalidArgument' });
    expect(os.callsOf('mkfs')).toEqual([]);
  });

  it('takes MULTI_NODE_MULTI_WRITER for a filesystem only for a node-local volume', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    const rwx = mountCap('xfs', [], Mode.MULTI_NODE_MULTI_WRITER);
    await expect(nodeStageVolume(ctx, stage({ volumeCapability: rwx }))).resolves.toEqual({});
    await expect(nodePublishVolume(ctx, publish({ volumeCapability: rwx }))).resolves.toEqual({});
    await expect(nodeStageVolume(ctx, stageReq({ volumeCapability: rwx }))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('MULTI_NODE_MULTI_WRITER is not supported for filesystem volumes') as string,
    });
  });

  it('publishes a raw block node-local volume by binding the proven device', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL });
    const target = blockTargetOf(KEY);
    await nodePublishVolume(ctx, publish({ volumeCapability: blockCap(), targetPath: target, stagingTargetPath: stagingOf(KEY) }));
    expect(os.callsOf('bindMount')).toEqual([[`/dev/${dev.name}`, target, false, []]]);
  });

  it('reports stats, unpublishes and unstages by the handle', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    await nodeStageVolume(ctx, stage());
    await nodePublishVolume(ctx, publish());
    const st = await nodeGetVolumeStats(ctx, { volumeId: HANDLE, volumePath: targetOf(KEY), stagingTargetPath: '' });
    expect(st.volumeCondition).toMatchObject({ abnormal: false });
    await nodeUnpublishVolume(ctx, { volumeId: HANDLE, targetPath: targetOf(KEY) });
    await nodeUnstageVolume(ctx, { volumeId: HANDLE, stagingTargetPath: stagingOf(KEY) });
    expect(await os.mounts()).toEqual([]);
  });
});
