import { execFile } from 'node:child_process';
import { readFile, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { VolumeUsage_Unit } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeHost, detachAll, type FakeHost } from '../../../../test/support/nvme.js';
import { blockCap, grpcError, mountCap, newVolumeId, startTestAgent, type TestAgent } from '../../../../test/support/node-agent.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

/** Whether this process may use the ext4 online-resize ioctl (CAP_SYS_RESOURCE, bit 24). */
async function hasCapSysResource(): Promise<boolean> {
  const line = (await readFile('/proc/self/status', 'utf8')).split('\n').find((l) => l.startsWith('CapEff:'));
  return line !== undefined && (BigInt(`0x${line.split(/\s+/)[1]}`) & (1n << 24n)) !== 0n;
}

describe('node agent on real loop devices: online expansion and volume stats', () => {
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

  async function stageAndPublish(fsType: string, size: number) {
    const volumeId = newVolumeId();
    const loop = await host.loop(size);
    const dev = await host.present(loop, { volumeId });
    const staging = join(host.kubeletRoot, 'plugins/ebs', volumeId, 'globalmount');
    const target = join(host.kubeletRoot, 'pods/p', volumeId, 'mount');
    await t.api.stage({ volumeId, stagingTargetPath: staging, volumeCapability: mountCap(fsType), publishContext: {}, secrets: {}, volumeContext: {} });
    await t.api.publish({
      volumeId,
      stagingTargetPath: staging,
      targetPath: target,
      volumeCapability: mountCap(fsType),
      readonly: false,
      publishContext: {},
      secrets: {},
      volumeContext: {},
    });
    return { volumeId, loop, dev, staging, target };
  }
  const stats = (volumeId: string, volumePath: string, stagingTargetPath = '') => t.api.stats({ volumeId, volumePath, stagingTargetPath });

  for (const [fsType, from, to] of [
    ['ext4', 64 * MiB, 128 * MiB],
    ['xfs', 320 * MiB, 512 * MiB],
  ] as const) {
    it(`grows ${fsType} online: grow the backing file, losetup -c, NodeExpandVolume`, async () => {
      const v = await stageAndPublish(fsType, from);
      await writeFile(join(v.target, 'before.txt'), 'still here');
      const sizeBefore = (await statfs(v.target)).blocks * (await statfs(v.target)).bsize;
      await v.loop.grow(to);

      const expandReq = {
        volumeId: v.volumeId,
        volumePath: v.target,
        stagingTargetPath: v.staging,
        capacityRange: { requiredBytes: to, limitBytes: 0 },
        volumeCapability: mountCap(fsType),
        secrets: {},
      };
      if (fsType === 'ext4' && !(await hasCapSysResource())) {
        // This host's kernel refuses the ext4 online-resize ioctl to a process without CAP_SYS_RESOURCE:
        // the agent must say so clearly, leave the volume working, and grow it at the next stage.
        const err = await grpcError(t.api.expand(expandReq));
        expect(err.code).toBe(status.FAILED_PRECONDITION);
        expect(err.details).toContain('CAP_SYS_RESOURCE');
        await t.api.unpublish({ volumeId: v.volumeId, targetPath: v.target });
        await t.api.unstage({ volumeId: v.volumeId, stagingTargetPath: v.staging });
        await t.api.stage({
          volumeId: v.volumeId,
          stagingTargetPath: v.staging,
          volumeCapability: mountCap(fsType),
          publishContext: {},
          secrets: {},
          volumeContext: {},
        });
        await t.api.publish({
          volumeId: v.volumeId,
          stagingTargetPath: v.staging,
          targetPath: v.target,
          volumeCapability: mountCap(fsType),
          readonly: false,
          publishContext: {},
          secrets: {},
          volumeContext: {},
        });
      }
      const res = await t.api.expand(expandReq);
      expect(res.capacityBytes).toBe(to);
      const fs = await statfs(v.target);
      const sizeAfter = fs.blocks * fs.bsize;
      expect(sizeAfter).toBeGreaterThan(sizeBefore + (to - from) * 0.9);
      // Idempotent: a second call finds nothing to grow.
      expect(
        (
          await t.api.expand({
            volumeId: v.volumeId,
            volumePath: v.target,
            stagingTargetPath: v.staging,
            capacityRange: undefined,
            volumeCapability: undefined,
            secrets: {},
          })
        ).capacityBytes,
      ).toBe(to);

      // Asking for more than the device has is a clear FAILED_PRECONDITION.
      const err = await grpcError(
        t.api.expand({
          volumeId: v.volumeId,
          volumePath: v.target,
          stagingTargetPath: '',
          capacityRange: { requiredBytes: to * 2, limitBytes: 0 },
          volumeCapability: undefined,
          secrets: {},
        }),
      );
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).toContain('not visible on this node yet');

      const s = await stats(v.volumeId, v.target, v.staging);
      const bytes = s.usage.find((u) => u.unit === VolumeUsage_Unit.BYTES);
      expect(bytes?.total).toBe(sizeAfter);
      expect(s.volumeCondition).toEqual({ abnormal: false, message: 'volume is healthy' });
      expect(await readFile(join(v.target, 'before.txt'), 'utf8')).toBe('still here');
    });
  }

  it('an ext4 volume that grew while unstaged is grown at stage, before mounting', async () => {
    const v = await stageAndPublish('ext4', 64 * MiB);
    await writeFile(join(v.target, 'keep.txt'), 'kept');
    const before = await statfs(v.target);
    await t.api.unpublish({ volumeId: v.volumeId, targetPath: v.target });
    await t.api.unstage({ volumeId: v.volumeId, stagingTargetPath: v.staging });
    await v.loop.grow(96 * MiB);
    await t.api.stage({
      volumeId: v.volumeId,
      stagingTargetPath: v.staging,
      volumeCapability: mountCap('ext4'),
      publishContext: {},
      secrets: {},
      volumeContext: {},
    });
    const fs = await statfs(v.staging);
    expect(fs.blocks * fs.bsize).toBeGreaterThan(before.blocks * before.bsize + 28 * MiB);
    expect(await readFile(join(v.staging, 'keep.txt'), 'utf8')).toBe('kept');
    await t.api.unstage({ volumeId: v.volumeId, stagingTargetPath: v.staging });
  });

  it('a block volume expands as a no-op that reports the device size', async () => {
    const volumeId = newVolumeId();
    const loop = await host.loop(16 * MiB);
    await host.present(loop, { volumeId });
    const target = join(host.kubeletRoot, 'plugins/volumeDevices/publish', volumeId, 'pod');
    await t.api.publish({
      volumeId,
      stagingTargetPath: join(host.kubeletRoot, 'plugins/volumeDevices/staging', volumeId),
      targetPath: target,
      volumeCapability: blockCap(),
      readonly: false,
      publishContext: {},
      secrets: {},
      volumeContext: {},
    });
    await loop.grow(48 * MiB);
    const res = await t.api.expand({
      volumeId,
      volumePath: target,
      stagingTargetPath: '',
      capacityRange: undefined,
      volumeCapability: blockCap(),
      secrets: {},
    });
    expect(res.capacityBytes).toBe(48 * MiB);
    const s = await stats(volumeId, target);
    expect(s.usage).toEqual([{ unit: VolumeUsage_Unit.BYTES, total: 48 * MiB, used: 0, available: 0 }]);
    expect(s.volumeCondition?.abnormal).toBe(false);
    await t.api.unpublish({ volumeId, targetPath: target });
  });

  it('reports bytes and inodes, then an abnormal condition when the mount is yanked, the fs goes read-only, or the device vanishes', async () => {
    const v = await stageAndPublish('ext4', 64 * MiB);
    await writeFile(join(v.target, 'data.bin'), Buffer.alloc(4 * MiB, 1));
    const s = await stats(v.volumeId, v.target, v.staging);
    const bytes = s.usage.find((u) => u.unit === VolumeUsage_Unit.BYTES)!;
    const inodes = s.usage.find((u) => u.unit === VolumeUsage_Unit.INODES)!;
    expect(bytes.total).toBeGreaterThan(50 * MiB);
    expect(bytes.used).toBeGreaterThanOrEqual(4 * MiB);
    expect(bytes.available).toBeLessThan(bytes.total - 4 * MiB);
    expect(inodes.total).toBeGreaterThan(1000);
    expect(inodes.used).toBeGreaterThanOrEqual(12);
    expect(s.volumeCondition?.abnormal).toBe(false);

    // The filesystem goes read-only underneath (as ext4 errors=remount-ro does): the superblock is ro, the pod's mount says rw.
    await exec('mount', ['-o', 'remount,ro', v.staging]);
    const ro = await stats(v.volumeId, v.target, v.staging);
    expect(ro.volumeCondition?.abnormal).toBe(true);
    expect(ro.volumeCondition?.message).toMatch(/read-only/);
    await exec('mount', ['-o', 'remount,rw', v.staging]);

    // Someone unmounts the pod's target from under the agent.
    await exec('umount', [v.target]);
    const gone = await stats(v.volumeId, v.target, v.staging);
    expect(gone.usage).toEqual([]);
    expect(gone.volumeCondition?.abnormal).toBe(true);
    expect(gone.volumeCondition?.message).toContain('not mounted');

    // The device disappears (force-detached) while still staged.
    await host.remove(v.dev.name);
    const vanished = await stats(v.volumeId, v.staging);
    expect(vanished.volumeCondition?.abnormal).toBe(true);
    expect(vanished.volumeCondition?.message).toContain('vanished');

    // A path that does not exist at all is NOT_FOUND.
    const nf = await grpcError(stats(v.volumeId, join(host.kubeletRoot, 'pods/none/mount')));
    expect(nf.code).toBe(status.NOT_FOUND);

    // Clean-up still works with the device gone.
    await t.api.unpublish({ volumeId: v.volumeId, targetPath: v.target });
    await t.api.unstage({ volumeId: v.volumeId, stagingTargetPath: v.staging });
  });
});
