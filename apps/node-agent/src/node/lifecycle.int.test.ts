import { execFile } from 'node:child_process';
import { lstat, mkdir, open, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeHost, detachAll, type FakeHost } from '../../../../test/support/nvme.js';
import { mountAt } from '../mount/mountinfo.js';
import { blockCap, checksum, grpcError, mountCap, newVolumeId, startTestAgent, type TestAgent } from '../../../../test/support/node-agent.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const blkidType = async (dev: string): Promise<string> =>
  (await exec('blkid', ['-p', '-s', 'TYPE', '-o', 'value', dev]).catch(() => ({ stdout: '' }))).stdout.trim();

describe('node agent on real loop devices: stage, publish, unpublish, unstage', () => {
  let host: FakeHost;
  let t: TestAgent;
  beforeAll(async () => {
    host = await createFakeHost();
    t = await startTestAgent(host);
  });
  afterAll(async () => {
    await t?.close();
    await host?.cleanup();
    await detachAll();
  });

  const paths = (volumeId: string) => ({
    staging: join(host.kubeletRoot, 'plugins/kubernetes.io/csi/ebs.csi.plinth.dev', volumeId, 'globalmount'),
    target: join(host.kubeletRoot, 'pods/pod-1/volumes/kubernetes.io~csi', volumeId, 'mount'),
  });
  const stage = (volumeId: string, staging: string, fsType = 'ext4', extra: Record<string, string> = {}) =>
    t.api.stage({ volumeId, stagingTargetPath: staging, volumeCapability: mountCap(fsType), publishContext: {}, secrets: {}, volumeContext: extra });
  const publish = (volumeId: string, staging: string, target: string, readonly = false) =>
    t.api.publish({
      volumeId,
      stagingTargetPath: staging,
      targetPath: target,
      volumeCapability: mountCap(),
      readonly,
      publishContext: {},
      secrets: {},
      volumeContext: {},
    });
  const unpublish = (volumeId: string, target: string) => t.api.unpublish({ volumeId, targetPath: target });
  const unstage = (volumeId: string, staging: string) => t.api.unstage({ volumeId, stagingTargetPath: staging });

  it('stage -> publish -> write -> unpublish -> unstage -> stage again keeps the data (no reformat), idempotently', async () => {
    const volumeId = newVolumeId();
    const loop = await host.loop(64 * MiB);
    await host.present(loop, { volumeId });
    const { staging, target } = paths(volumeId);

    await stage(volumeId, staging);
    expect(await blkidType(loop.path)).toBe('ext4');
    await stage(volumeId, staging); // idempotent
    await publish(volumeId, staging, target);
    await publish(volumeId, staging, target); // idempotent
    const m = await mountAt(target);
    expect(m?.majMin).toBe(loop.majMin);

    await writeFile(join(target, 'hello.txt'), 'kept across restage');
    await unpublish(volumeId, target);
    await unpublish(volumeId, target); // idempotent, path already gone
    await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    await unstage(volumeId, staging);
    await unstage(volumeId, staging); // idempotent
    expect(await mountAt(staging)).toBeUndefined();

    await stage(volumeId, staging);
    expect(await readFile(join(staging, 'hello.txt'), 'utf8')).toBe('kept across restage');
    await unstage(volumeId, staging);
  });

  it('refuses a device whose serial does not match: FAILED_PRECONDITION and the device is byte-for-byte unchanged', async () => {
    const volumeId = newVolumeId();
    const other = newVolumeId();
    const loop = await host.loop(32 * MiB);
    // The by-id link says "volumeId", but sysfs says the device is "other" (a stale udev link).
    await host.present(loop, { volumeId, serial: other.replace('vol-', 'vol') });
    const before = await checksum(loop.path);
    const { staging } = paths(volumeId);
    const err = await grpcError(stage(volumeId, staging));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain(volumeId);
    expect(err.details).toContain(other.replace('vol-', 'vol'));
    expect(await checksum(loop.path)).toBe(before);
    expect(await mountAt(staging)).toBeUndefined();
  });

  it('falls back to the publish_context device path on a non-NVMe host, but never onto an NVMe device of another volume', async () => {
    const volumeId = newVolumeId();
    const loop = await host.loop(32 * MiB);
    await host.presentPlain(loop, 'xvdbb'); // Xen-style disk: no serial to read
    const { staging } = paths(volumeId);
    await t.api.stage({
      volumeId,
      stagingTargetPath: staging,
      volumeCapability: mountCap(),
      publishContext: { devicePath: '/dev/xvdbb' },
      secrets: {},
      volumeContext: {},
    });
    expect((await mountAt(staging))?.majMin).toBe(loop.majMin);
    await unstage(volumeId, staging);

    // /dev/xvdbc is (by a udev link) the NVMe device of a different volume: refused, untouched.
    const other = newVolumeId();
    const otherLoop = await host.loop(32 * MiB);
    const presented = await host.present(otherLoop, { volumeId: other });
    await symlink(presented.name, join(host.devRoot, 'xvdbc'));
    const before = await checksum(otherLoop.path);
    const mine = newVolumeId();
    const err = await grpcError(
      t.api.stage({
        volumeId: mine,
        stagingTargetPath: paths(mine).staging,
        volumeCapability: mountCap(),
        publishContext: { devicePath: '/dev/xvdbc' },
        secrets: {},
        volumeContext: {},
      }),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain(other.replace('vol-', 'vol'));
    expect(await checksum(otherLoop.path)).toBe(before);

    // A device path outside /dev is refused outright.
    const bad = await grpcError(
      t.api.stage({
        volumeId: mine,
        stagingTargetPath: paths(mine).staging,
        volumeCapability: mountCap(),
        publishContext: { devicePath: '/etc/passwd' },
        secrets: {},
        volumeContext: {},
      }),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toContain('devicePath');
  });

  it('explains OS errors by syscall and path instead of a bare "internal error"', async () => {
    const volumeId = newVolumeId();
    await host.present(await host.loop(16 * MiB), { volumeId });
    const { staging } = paths(volumeId);
    const blocker = join(host.kubeletRoot, 'plugins/kubernetes.io/csi/ebs.csi.plinth.dev', volumeId);
    await mkdir(dirname(blocker), { recursive: true });
    await writeFile(blocker, 'a file where a directory should be');
    const err = await grpcError(stage(volumeId, staging));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toMatch(/^NodeStageVolume: mkdir .* failed with (ENOTDIR|EEXIST)$/);
  });

  it('does not reformat a device that already holds another filesystem', async () => {
    const volumeId = newVolumeId();
    const loop = await host.loop(320 * MiB);
    await exec('mkfs.xfs', ['-q', loop.path]);
    await host.present(loop, { volumeId });
    const before = await checksum(loop.path);
    const err = await grpcError(stage(volumeId, paths(volumeId).staging, 'ext4'));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/already contains xfs, not ext4/);
    expect(await blkidType(loop.path)).toBe('xfs');
    expect(await checksum(loop.path)).toBe(before);

    // Asked for what it is, it mounts (with nouuid) without mkfs.
    await stage(volumeId, paths(volumeId).staging, 'xfs');
    const m = await mountAt(paths(volumeId).staging);
    expect(m?.fsType).toBe('xfs');
    expect(m?.superOptions.join(',')).toMatch(/nouuid/);
    await unstage(volumeId, paths(volumeId).staging);
  });

  it('staging the same path with an incompatible fs type is ALREADY_EXISTS; another device there is FAILED_PRECONDITION', async () => {
    const a = newVolumeId();
    const b = newVolumeId();
    await host.present(await host.loop(32 * MiB), { volumeId: a });
    await host.present(await host.loop(32 * MiB), { volumeId: b });
    const { staging } = paths(a);
    await stage(a, staging);
    expect((await grpcError(stage(a, staging, 'ext3'))).code).toBe(status.ALREADY_EXISTS);
    const other = await grpcError(stage(b, staging));
    expect(other.code).toBe(status.FAILED_PRECONDITION);
    expect(other.details).toContain(staging);
    await unstage(a, staging);
  });

  it('formats with validated options from the volume context', async () => {
    const volumeId = newVolumeId();
    const loop = await host.loop(64 * MiB);
    await host.present(loop, { volumeId });
    const bad = await grpcError(stage(volumeId, paths(volumeId).staging, 'xfs', { bytesPerInode: '4096' }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toContain('bytesPerInode');
    expect(await blkidType(loop.path)).toBe('');

    await stage(volumeId, paths(volumeId).staging, 'ext4', { blockSize: '1024', inodeSize: '256', numberOfInodes: '10000' });
    const { stdout } = await exec('dumpe2fs', ['-h', loop.path]);
    expect(stdout).toMatch(/^Block size:\s+1024$/m);
    expect(stdout).toMatch(/^Inode size:\s+256$/m);
    expect(Number(/^Inode count:\s+(\d+)/m.exec(stdout)?.[1])).toBeGreaterThanOrEqual(9000);
    expect(Number(/^Inode count:\s+(\d+)/m.exec(stdout)?.[1])).toBeLessThan(11000); // default for 64 MiB at 1 KiB blocks would be 4096
    await unstage(volumeId, paths(volumeId).staging);
  });

  it('publishes read-only when asked: writes fail with EROFS while the staging mount stays writable', async () => {
    const volumeId = newVolumeId();
    await host.present(await host.loop(32 * MiB), { volumeId });
    const { staging, target } = paths(volumeId);
    await stage(volumeId, staging);
    await publish(volumeId, staging, target, true);
    expect((await mountAt(target))?.mountOptions).toContain('ro');
    await expect(writeFile(join(target, 'x'), 'no')).rejects.toMatchObject({ code: 'EROFS' });
    await writeFile(join(staging, 'y'), 'yes');
    // Publishing the same target read-write now is incompatible.
    expect((await grpcError(publish(volumeId, staging, target, false))).code).toBe(status.ALREADY_EXISTS);
    await unpublish(volumeId, target);
    await unstage(volumeId, staging);
  });

  it('publish before stage is FAILED_PRECONDITION', async () => {
    const volumeId = newVolumeId();
    await host.present(await host.loop(16 * MiB), { volumeId });
    const { staging, target } = paths(volumeId);
    const err = await grpcError(publish(volumeId, staging, target));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('not staged');
  });

  it('block mode binds the device onto a target file; data written through it lands on the device', async () => {
    const volumeId = newVolumeId();
    const loop = await host.loop(16 * MiB);
    await host.present(loop, { volumeId });
    const { staging } = paths(volumeId);
    const target = join(host.kubeletRoot, 'plugins/kubernetes.io/csi/volumeDevices/publish', volumeId, 'pod-1');
    const req = {
      volumeId,
      stagingTargetPath: staging,
      targetPath: target,
      volumeCapability: blockCap(),
      readonly: false,
      publishContext: {},
      secrets: {},
      volumeContext: {},
    };
    await t.api.stage({ volumeId, stagingTargetPath: staging, volumeCapability: blockCap(), publishContext: {}, secrets: {}, volumeContext: {} });
    expect(await blkidType(loop.path)).toBe(''); // never formatted
    await t.api.publish(req);
    await t.api.publish(req); // idempotent
    const st = await stat(target);
    expect(st.isBlockDevice()).toBe(true);
    expect(st.rdev).toBe((await stat(loop.path)).rdev);
    expect(await mountAt(target)).toBeDefined();
    await writeFile(target, Buffer.from('raw block bytes'), { flag: 'r+' });
    const head = Buffer.alloc(15);
    const fh = await open(loop.path, 'r');
    await fh.read(head, 0, 15, 0);
    await fh.close();
    expect(head.toString()).toBe('raw block bytes');
    await unpublish(volumeId, target);
    await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    await unstage(volumeId, staging);
  });

  it('stages different volumes concurrently', async () => {
    const ids = [newVolumeId(), newVolumeId(), newVolumeId()];
    for (const id of ids) await host.present(await host.loop(32 * MiB), { volumeId: id });
    await Promise.all(ids.map((id) => stage(id, paths(id).staging)));
    for (const id of ids) expect(await mountAt(paths(id).staging)).toBeDefined();
    await Promise.all(ids.map((id) => unstage(id, paths(id).staging)));
  });

  it('waits a bounded time for a late device, and a second call for the busy volume is ABORTED', async () => {
    const volumeId = newVolumeId();
    const loop = await host.loop(32 * MiB);
    const { staging } = paths(volumeId);
    const first = stage(volumeId, staging); // the device is not there yet: the agent waits
    await new Promise((r) => setTimeout(r, 200));
    const second = await grpcError(stage(volumeId, staging));
    expect(second.code).toBe(status.ABORTED);
    expect(second.details).toContain(volumeId);
    // Arguments are checked before the lock: a malformed call is INVALID_ARGUMENT even while the volume is busy.
    expect((await grpcError(stage(volumeId, '/not/under/kubelet'))).code).toBe(status.INVALID_ARGUMENT);
    await host.present(loop, { volumeId }); // "attach" completes
    await first;
    expect((await mountAt(staging))?.majMin).toBe(loop.majMin);
    await unstage(volumeId, staging);

    // Never appearing: NOT_FOUND after DEVICE_WAIT_MS, naming the serial looked for.
    const ghost = newVolumeId();
    const err = await grpcError(stage(ghost, paths(ghost).staging));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toContain(ghost.replace('vol-', 'vol'));
  });

  it('refuses paths that leave the kubelet root through a symlink, touching nothing outside', async () => {
    const volumeId = newVolumeId();
    await host.present(await host.loop(16 * MiB), { volumeId });
    const outside = join(host.root, 'outside');
    await mkdir(outside);
    await symlink(outside, join(host.kubeletRoot, 'sneaky'));
    const err = await grpcError(stage(volumeId, join(host.kubeletRoot, 'sneaky/globalmount')));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/staging_target_path .* leads outside the kubelet root/);
    await expect(lstat(join(outside, 'globalmount'))).rejects.toMatchObject({ code: 'ENOENT' });
    const err2 = await grpcError(unpublish(volumeId, join(host.kubeletRoot, 'sneaky')));
    expect(err2.code).toBe(status.INVALID_ARGUMENT);
  });

  it('validates arguments with INVALID_ARGUMENT naming the field', async () => {
    const volumeId = newVolumeId();
    const cases: [Promise<unknown>, string][] = [
      [stage(volumeId, 'relative/path'), 'staging_target_path'],
      [stage(volumeId, '/etc/evil'), 'staging_target_path'],
      [stage(volumeId, join(host.kubeletRoot, 'a/../../escape')), 'staging_target_path'],
      [stage('not-a-volume', paths(volumeId).staging), 'volume_id'],
      [
        t.api.stage({ volumeId, stagingTargetPath: paths(volumeId).staging, volumeCapability: undefined, publishContext: {}, secrets: {}, volumeContext: {} }),
        'volume_capability',
      ],
      [stage(volumeId, paths(volumeId).staging, 'btrfs'), 'fs_type'],
      [publish(volumeId, paths(volumeId).staging, '/tmp/elsewhere'), 'target_path'],
      [unpublish(volumeId, ''), 'target_path'],
      [t.api.stats({ volumeId, volumePath: '../x', stagingTargetPath: '' }), 'volume_path'],
    ];
    for (const [p, field] of cases) {
      const err = await grpcError(p);
      expect(err.code, field).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toContain(field);
    }
  });

  it('answers stats and expand for a volume that cannot be here with NOT_FOUND naming it', async () => {
    const target = paths(newVolumeId()).target;
    const stats = await grpcError(t.api.stats({ volumeId: 'fake-vol-id-1', volumePath: target, stagingTargetPath: '' }));
    expect(stats.code).toBe(status.NOT_FOUND);
    expect(stats.details).toContain('fake-vol-id-1');
    const expand = await grpcError(
      t.api.expand({
        volumeId: 'fake-vol-id-2',
        volumePath: target,
        capacityRange: undefined,
        stagingTargetPath: '',
        volumeCapability: undefined,
        secrets: {},
      }),
    );
    expect(expand.code).toBe(status.NOT_FOUND);
    expect(expand.details).toContain('fake-vol-id-2');
  });
});
