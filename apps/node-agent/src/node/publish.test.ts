import { VolumeCapability_AccessMode_Mode as Mode } from '@plinth/csi';
import { describe, expect, it } from 'vitest';
import { mountAt } from '../os/host-os.js';
import { blockCap, blockTargetOf, fakeContext, KUBELET_ROOT, mountCap, OTHER, publishReq, stagedVolume, stagingOf, targetOf, VOL } from './fake-context.js';
import { nodePublishVolume } from './publish.js';

const req = publishReq;

const staged = () => stagedVolume();

describe('NodePublishVolume', () => {
  it('bind-mounts the staging mount onto a created target directory, read-write', async () => {
    const { ctx, os, dev } = await staged();
    await expect(nodePublishVolume(ctx, req())).resolves.toEqual({});
    expect(await os.pathInfo(targetOf(VOL))).toMatchObject({ kind: 'directory' });
    expect(await mountAt(os, targetOf(VOL))).toMatchObject({ majMin: dev.majMin, fsType: 'ext4', mountOptions: ['rw'] });
    expect(os.callsOf('bindMount')).toEqual([[stagingOf(VOL), targetOf(VOL), false, []]]);
  });

  it('publishes read-only when asked, or when the capability says ro; passes other per-mount flags along', async () => {
    const { ctx, os } = await staged();
    await nodePublishVolume(ctx, req({ readonly: true }));
    expect((await mountAt(os, targetOf(VOL)))?.mountOptions).toContain('ro');
    expect((await mountAt(os, stagingOf(VOL)))?.mountOptions).toContain('rw');

    const second = `${KUBELET_ROOT}/pods/pod-2/volumes/kubernetes.io~csi/${VOL}/mount`;
    await nodePublishVolume(ctx, req({ targetPath: second, volumeCapability: mountCap('ext4', ['ro', 'nosuid', 'defaults']) }));
    expect(os.callsOf('bindMount')[1]).toEqual([stagingOf(VOL), second, true, ['nosuid']]);
  });

  it('is idempotent for the same request; the other ro/rw or another device at the target is ALREADY_EXISTS', async () => {
    const { ctx, os } = await staged();
    await nodePublishVolume(ctx, req());
    await nodePublishVolume(ctx, req());
    expect(os.callsOf('bindMount')).toHaveLength(1);
    await expect(nodePublishVolume(ctx, req({ readonly: true }))).rejects.toMatchObject({
      kind: 'AlreadyExists',
      message: expect.stringContaining(`already published at ${targetOf(VOL)} read-write`) as string,
    });

    const other = os.addDevice({ volumeId: OTHER, fs: 'ext4' });
    os.addDir(`${KUBELET_ROOT}/elsewhere`);
    await os.mount(`/dev/${other.name}`, `${KUBELET_ROOT}/elsewhere`, 'ext4', []);
    const busy = `${KUBELET_ROOT}/pods/pod-3/mount`;
    os.addDir(busy);
    await os.bindMount(`${KUBELET_ROOT}/elsewhere`, busy, false, []);
    await expect(nodePublishVolume(ctx, req({ targetPath: busy }))).rejects.toMatchObject({
      kind: 'AlreadyExists',
      message: expect.stringContaining(`target_path ${busy} already has another device mounted`) as string,
    });
  });

  it('SINGLE_NODE_SINGLE_WRITER: a second target is FAILED_PRECONDITION naming the first; the same target again is fine', async () => {
    const single = mountCap('ext4', [], Mode.SINGLE_NODE_SINGLE_WRITER);
    const { ctx, os } = await stagedVolume({ cap: single });
    await nodePublishVolume(ctx, req({ volumeCapability: single }));
    await nodePublishVolume(ctx, req({ volumeCapability: single }));
    const other = `${KUBELET_ROOT}/pods/pod-2/volumes/kubernetes.io~csi/${VOL}/mount`;
    await expect(nodePublishVolume(ctx, req({ volumeCapability: single, targetPath: other }))).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining(targetOf(VOL)) as string,
    });
    expect(await mountAt(os, other)).toBeUndefined();
    // SINGLE_NODE_MULTI_WRITER may be published at several targets.
    const multi = mountCap('ext4', [], Mode.SINGLE_NODE_MULTI_WRITER);
    await nodePublishVolume(ctx, req({ volumeCapability: multi, targetPath: other }));
    expect(await mountAt(os, other)).toBeDefined();
  });

  it('SINGLE_NODE_SINGLE_WRITER block volume: a second target is FAILED_PRECONDITION', async () => {
    const single = blockCap(Mode.SINGLE_NODE_SINGLE_WRITER);
    const { ctx } = await stagedVolume({ cap: single });
    await nodePublishVolume(ctx, req({ volumeCapability: single, targetPath: blockTargetOf(VOL), stagingTargetPath: '' }));
    await expect(nodePublishVolume(ctx, req({ volumeCapability: single, targetPath: `${blockTargetOf(VOL)}-2`, stagingTargetPath: '' }))).rejects.toMatchObject(
      { kind: 'FailedPrecondition' },
    );
  });

  it('publish before stage is FAILED_PRECONDITION and mounts nothing', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    await expect(nodePublishVolume(ctx, req())).rejects.toMatchObject({ kind: 'FailedPrecondition', message: expect.stringContaining('not staged') as string });
    expect(await os.mounts()).toEqual([]);
  });

  it('refuses a target inside the staging path, or outside the kubelet root, naming the field', async () => {
    const { ctx, os } = await staged();
    const before = os.calls.length;
    await expect(nodePublishVolume(ctx, req({ targetPath: `${stagingOf(VOL)}/inner` }))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('must not be inside staging_target_path') as string,
    });
    await expect(nodePublishVolume(ctx, req({ targetPath: '/tmp/elsewhere' }))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('target_path') as string,
    });
    await expect(nodePublishVolume(ctx, req({ stagingTargetPath: '' }))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('staging_target_path') as string,
    });
    expect(os.calls.length).toBe(before);
  });

  it('block: binds the proven device node onto a created file, idempotently', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL });
    const r = req({ targetPath: blockTargetOf(VOL), volumeCapability: blockCap() });
    await nodePublishVolume(ctx, r);
    await nodePublishVolume(ctx, r);
    expect(os.callsOf('bindMount')).toEqual([[`/dev/${dev.name}`, blockTargetOf(VOL), false, []]]);
    expect(await os.pathInfo(blockTargetOf(VOL))).toEqual({ kind: 'block', size: 0, majMin: dev.majMin });
    expect(os.callsOf('mkfs')).toEqual([]);
    await expect(nodePublishVolume(ctx, { ...r, readonly: true })).rejects.toMatchObject({ kind: 'AlreadyExists' });
  });

  it('block: another device bound at the target is ALREADY_EXISTS; a device that never appears is NOT_FOUND', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    const other = os.addDevice({ volumeId: OTHER });
    os.addFile(blockTargetOf(VOL));
    await os.bindMount(`/dev/${other.name}`, blockTargetOf(VOL), false, []);
    await expect(nodePublishVolume(ctx, req({ targetPath: blockTargetOf(VOL), volumeCapability: blockCap() }))).rejects.toMatchObject({
      kind: 'AlreadyExists',
      message: expect.stringContaining('another device') as string,
    });
    const ghost = 'vol-0bbbbbbbbbbbbbbb2';
    await expect(nodePublishVolume(ctx, req({ volumeId: ghost, targetPath: blockTargetOf(ghost), volumeCapability: blockCap() }))).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining(ghost) as string,
    });
    expect(await os.pathInfo(blockTargetOf(ghost))).toBeUndefined();
  });
});
