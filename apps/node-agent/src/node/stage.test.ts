import type { NodeStageVolumeRequest } from '@plinth/csi';
import { internal } from '@plinth/errors';
import { describe, expect, it } from 'vitest';
import { mountAt } from '../os/host-os.js';
import { blockCap, DEVICE_WAIT_MS, fakeContext, KUBELET_ROOT, mountCap, OTHER, stageReq, stagingOf, VOL } from './fake-context.js';
import { nodeStageVolume } from './stage.js';

const MiB = 1024 * 1024;
const req = stageReq;

describe('NodeStageVolume', () => {
  it('formats a blank, proven device with the requested filesystem and mounts it at the staging path', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL });
    await expect(nodeStageVolume(ctx, req({ volumeContext: { blockSize: '1024', inodeSize: '256' } }))).resolves.toEqual({});
    expect(os.callsOf('mkfs')).toEqual([['ext4', `/dev/${dev.name}`, { blockSize: 1024, inodeSize: 256 }]]);
    expect(dev.fs?.type).toBe('ext4');
    expect(await mountAt(os, stagingOf(VOL))).toMatchObject({ majMin: dev.majMin, fsType: 'ext4', mountOptions: ['rw'] });
    expect(os.callsOf('mount')).toEqual([[`/dev/${dev.name}`, stagingOf(VOL), 'ext4', ['defaults']]]);
  });

  it('never formats a device that already has the filesystem: it mounts it as it is', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL, fs: 'ext4' });
    await nodeStageVolume(ctx, req());
    expect(os.callsOf('mkfs')).toEqual([]);
    expect(await mountAt(os, stagingOf(VOL))).toMatchObject({ majMin: dev.majMin, fsType: 'ext4' });
  });

  it('refuses a device holding another filesystem or a partition table: FAILED_PRECONDITION, nothing formatted or mounted', async () => {
    for (const [setup, what] of [
      [{ fs: 'xfs' }, 'already contains xfs, not ext4; refusing to reformat it'],
      [{ ptType: 'gpt' }, 'already contains a gpt partition table, not ext4'],
    ] as const) {
      const { ctx, os } = fakeContext();
      os.addDevice({ volumeId: VOL, ...setup });
      await expect(nodeStageVolume(ctx, req())).rejects.toMatchObject({ kind: 'FailedPrecondition', message: expect.stringContaining(what) as string });
      expect(os.callsOf('mkfs')).toEqual([]);
      expect(await os.mounts()).toEqual([]);
    }
  });

  it('mounts an ext2 or ext3 volume staged as ext4 as it is (the ext4 driver reads them), as aws-ebs-csi-driver does; never formats it', async () => {
    for (const fs of ['ext3', 'ext2']) {
      const { ctx, os } = fakeContext();
      const dev = os.addDevice({ volumeId: VOL, fs });
      await expect(nodeStageVolume(ctx, req())).resolves.toEqual({});
      expect(os.callsOf('mkfs')).toEqual([]);
      expect(dev.fs?.type).toBe(fs);
      expect(os.callsOf('mount')).toEqual([[`/dev/${dev.name}`, stagingOf(VOL), 'ext4', ['defaults']]]);
      // The mount list says ext4 (the driver that mounted it): staging again is idempotent.
      expect(await mountAt(os, stagingOf(VOL))).toMatchObject({ majMin: dev.majMin, fsType: 'ext4' });
      await expect(nodeStageVolume(ctx, req())).resolves.toEqual({});
      expect(os.callsOf('mount')).toHaveLength(1);
    }
  });

  it('grows an ext3 volume staged as ext4 before mounting it, with the ext tools', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL, fs: 'ext3', size: 64 * MiB });
    os.grow(dev.name, 128 * MiB);
    await nodeStageVolume(ctx, req());
    expect(os.callsOf('growOffline')).toEqual([[`/dev/${dev.name}`]]);
    expect(dev.fs).toMatchObject({ type: 'ext3', size: 128 * MiB });
  });

  it('refuses what the requested driver cannot read (ext4 or ext2 as ext3, xfs as ext4, ext3 as xfs): FAILED_PRECONDITION, nothing formatted or mounted', async () => {
    for (const [fs, fsType] of [
      ['ext4', 'ext3'],
      ['ext2', 'ext3'],
      ['xfs', 'ext4'],
      ['ext3', 'xfs'],
    ] as const) {
      const { ctx, os } = fakeContext();
      os.addDevice({ volumeId: VOL, fs });
      await expect(nodeStageVolume(ctx, req({ volumeCapability: mountCap(fsType) }))).rejects.toMatchObject({
        kind: 'FailedPrecondition',
        message: `volume ${VOL} already contains ${fs}, not ${fsType}; refusing to reformat it`,
      });
      expect(os.callsOf('mkfs')).toEqual([]);
      expect(os.callsOf('mount')).toEqual([]);
    }
  });

  it('an ext3 volume the kernel will not mount as ext4 is FAILED_PRECONDITION naming both types, and is not formatted', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL, fs: 'ext3' });
    os.failNext('mount', internal('mount -t ext4 /dev/nvme1n1 … failed: wrong fs type, bad option, bad superblock'));
    await expect(nodeStageVolume(ctx, req())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringMatching(
        /already contains ext3 and mounting it as ext4 failed \(mount -t ext4 .*bad superblock\); refusing to reformat it$/,
      ) as string,
    });
    expect(os.callsOf('mkfs')).toEqual([]);
    expect(await os.mounts()).toEqual([]);
  });

  it('never touches a device whose serial is another volume (a stale by-id link): FAILED_PRECONDITION naming both', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL, serial: OTHER.replace('vol-', 'vol') });
    const err = nodeStageVolume(ctx, req());
    await expect(err).rejects.toMatchObject({ kind: 'FailedPrecondition' });
    await expect(err).rejects.toThrow(/vol0123456789abcdef0/);
    await expect(err).rejects.toThrow(/serial "vol0fedcba9876543210"/);
    expect(os.callsOf('probe')).toEqual([]);
    expect(os.callsOf('mkfs')).toEqual([]);
    expect(await os.mounts()).toEqual([]);
  });

  it('refuses an NVMe device with the serial but not the EBS model (instance storage)', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL, model: 'Amazon EC2 NVMe Instance Storage' });
    await expect(nodeStageVolume(ctx, req())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('Instance Storage') as string,
    });
    expect(os.callsOf('mkfs')).toEqual([]);
  });

  it('finds the device by its sysfs serial when the by-id link is missing', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL });
    os.removeDevice(dev.name);
    const again = os.addDevice({ name: dev.name, serial: 'vol0123456789abcdef0', model: 'Amazon Elastic Block Store' }); // no by-id link this time
    await nodeStageVolume(ctx, req());
    expect((await mountAt(os, stagingOf(VOL)))?.majMin).toBe(again.majMin);
  });

  it('uses the publish_context device path on a non-NVMe host, but never an NVMe device of another volume behind it', async () => {
    const { ctx, os } = fakeContext();
    const xen = os.addDevice({ name: 'xvdbb' });
    await nodeStageVolume(ctx, req({ publishContext: { devicePath: '/dev/xvdbb' } }));
    expect((await mountAt(os, stagingOf(VOL)))?.majMin).toBe(xen.majMin);

    const other = os.addDevice({ volumeId: OTHER });
    os.link('/dev/xvdbc', other.name);
    const mine = 'vol-0aaaaaaaaaaaaaaa1';
    const err = nodeStageVolume(ctx, req({ volumeId: mine, stagingTargetPath: stagingOf(mine), publishContext: { devicePath: '/dev/xvdbc' } }));
    await expect(err).rejects.toMatchObject({ kind: 'FailedPrecondition', message: expect.stringContaining('vol0fedcba9876543210') as string });
    expect(os.callsOf('mkfs')).toHaveLength(1);

    await expect(
      nodeStageVolume(ctx, req({ volumeId: mine, stagingTargetPath: stagingOf(mine), publishContext: { devicePath: '/etc/passwd' } })),
    ).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('devicePath') as string,
    });
  });

  it('a non-NVMe device is not taken without the publish_context path (no serial to prove it)', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ name: 'xvdbb' });
    os.link('/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0', '../../xvdbb');
    await expect(nodeStageVolume(ctx, req())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('no NVMe serial') as string,
    });
    expect(os.callsOf('mkfs')).toEqual([]);
  });

  it('waits DEVICE_WAIT_MS for the device: NOT_FOUND naming the serial when it never appears, success when it comes late', async () => {
    const { ctx, os } = fakeContext();
    const started = Date.now();
    await expect(nodeStageVolume(ctx, req())).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining('NVMe serial vol0123456789abcdef0') as string,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(DEVICE_WAIT_MS - 5);

    const late = new Promise<void>((resolve) => setTimeout(resolve, DEVICE_WAIT_MS / 3)).then(() => os.addDevice({ volumeId: VOL }));
    await nodeStageVolume(ctx, req());
    expect((await mountAt(os, stagingOf(VOL)))?.majMin).toBe((await late).majMin);
  });

  it('does not format a device swapped between discovery and mkfs', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL });
    os.beforeNext('probe', () => {
      os.removeDevice(dev.name);
      os.addDevice({ name: dev.name, volumeId: OTHER });
    });
    await expect(nodeStageVolume(ctx, req())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('changed under us') as string,
    });
    expect(os.callsOf('mkfs')).toEqual([]);
  });

  it('is idempotent: staged already with the same device and filesystem is OK without a second mount', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    await nodeStageVolume(ctx, req());
    await nodeStageVolume(ctx, req());
    expect(os.callsOf('mount')).toHaveLength(1);
    expect(os.callsOf('mkfs')).toHaveLength(1);
  });

  it('staged with another filesystem type is ALREADY_EXISTS; another device at the staging path is FAILED_PRECONDITION', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    os.addDevice({ volumeId: OTHER });
    await nodeStageVolume(ctx, req());
    await expect(nodeStageVolume(ctx, req({ volumeCapability: mountCap('ext3') }))).rejects.toMatchObject({
      kind: 'AlreadyExists',
      message: expect.stringContaining('already staged') as string,
    });
    await expect(nodeStageVolume(ctx, req({ volumeId: OTHER }))).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining(`staging_target_path ${stagingOf(VOL)} already has another device mounted`) as string,
    });
    expect(os.callsOf('mount')).toHaveLength(1);
  });

  it('mounts xfs with nouuid and the capability flags, and grows it once mounted', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL, size: 512 * MiB, fs: 'xfs' });
    os.grow(dev.name, 768 * MiB);
    await nodeStageVolume(ctx, req({ volumeCapability: mountCap('xfs', ['noatime']) }));
    expect(os.callsOf('mount')[0]?.[3]).toEqual(['defaults', 'noatime', 'nouuid']);
    expect(os.callsOf('growOnline')).toEqual([['xfs', `/dev/${dev.name}`, stagingOf(VOL)]]);
    expect(dev.fs?.size).toBe(768 * MiB);
  });

  it('a failed xfs grow at stage leaves the volume staged (NodeExpandVolume retries)', async () => {
    const { ctx, os } = fakeContext();
    const dev = os.addDevice({ volumeId: VOL, fs: 'xfs' });
    os.grow(dev.name, 2 * dev.size);
    os.failNext('growOnline', new Error('xfs_growfs failed'));
    await expect(nodeStageVolume(ctx, req({ volumeCapability: mountCap('xfs') }))).resolves.toEqual({});
    expect(await mountAt(os, stagingOf(VOL))).toBeDefined();
  });

  it('grows an ext4 filesystem smaller than its device before mounting, and leaves one within the slack alone', async () => {
    const { ctx, os } = fakeContext();
    const grown = os.addDevice({ volumeId: VOL, fs: 'ext4' });
    os.grow(grown.name, grown.size + 32 * MiB);
    await nodeStageVolume(ctx, req());
    expect(os.callsOf('growOffline')).toEqual([[`/dev/${grown.name}`]]);
    expect(os.calls.findIndex((c) => c.op === 'growOffline')).toBeLessThan(os.calls.findIndex((c) => c.op === 'mount'));

    const same = os.addDevice({ volumeId: OTHER, fs: 'ext4' });
    os.grow(same.name, same.size + 512 * 1024);
    await nodeStageVolume(ctx, req({ volumeId: OTHER, stagingTargetPath: stagingOf(OTHER) }));
    expect(os.callsOf('growOffline')).toHaveLength(1);
  });

  it('a raw block capability stages nothing', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    await expect(nodeStageVolume(ctx, req({ volumeCapability: blockCap() }))).resolves.toEqual({});
    expect(os.calls.map((c) => c.op).filter((op) => op !== 'realpath')).toEqual([]);
  });

  it('a failing mkfs is INTERNAL with its reason, and nothing is mounted', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    os.failNext('mkfs', internal('mkfs.ext4 -F /dev/nvme1n1 failed: No space left on device'));
    await expect(nodeStageVolume(ctx, req())).rejects.toMatchObject({ kind: 'Internal', message: expect.stringContaining('No space left') as string });
    expect(await os.mounts()).toEqual([]);
  });

  it('validates arguments before touching the host, naming the field', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    const cases: [Partial<NodeStageVolumeRequest>, string][] = [
      [{ volumeId: '' }, 'volume_id is required'],
      [{ volumeId: 'not-a-volume' }, 'volume_id'],
      [{ stagingTargetPath: 'relative/path' }, 'staging_target_path'],
      [{ stagingTargetPath: '/etc/evil' }, 'staging_target_path'],
      [{ stagingTargetPath: `${KUBELET_ROOT}/a/../../escape` }, 'staging_target_path'],
      [{ volumeCapability: undefined }, 'volume_capability is required'],
      [{ volumeCapability: mountCap('btrfs') }, 'fs_type'],
      [{ volumeCapability: mountCap('ext4', ['bind']) }, 'mount_flags'],
      [{ volumeCapability: mountCap('xfs'), volumeContext: { bytesPerInode: '4096' } }, 'volume_context.bytesPerInode'],
    ];
    for (const [over, field] of cases) {
      await expect(nodeStageVolume(ctx, req(over)), field).rejects.toMatchObject({
        kind: 'InvalidArgument',
        message: expect.stringContaining(field) as string,
      });
    }
    expect(os.calls).toEqual([]);
  });

  it('refuses a staging path that leaves the kubelet root through a symlink, creating nothing outside', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    os.addDir('/outside');
    os.link(`${KUBELET_ROOT}/sneaky`, '/outside');
    await expect(nodeStageVolume(ctx, req({ stagingTargetPath: `${KUBELET_ROOT}/sneaky/globalmount` }))).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringMatching(/staging_target_path .* leads outside the kubelet root/) as string,
    });
    expect(await os.pathInfo('/outside/globalmount')).toBeUndefined();
    expect(os.callsOf('mkdir')).toEqual([]);
  });

  it('a second operation on a busy volume is ABORTED naming it', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    let release!: () => void;
    const held = ctx.locks.with(VOL, 'NodeUnstageVolume', () => new Promise<void>((r) => (release = r)));
    await expect(nodeStageVolume(ctx, req())).rejects.toMatchObject({ kind: 'Aborted', message: expect.stringContaining(VOL) as string });
    release();
    await held;
    expect(os.callsOf('mount')).toEqual([]);
  });
});
