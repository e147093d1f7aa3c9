/**
 * Each unhealthy case made to happen for real on the emulated host (loop
 * devices presented as EBS NVMe volumes, real ext4/xfs, real mounts) and
 * shown reported by NodeGetVolumeHealth / NodeGetStorageHealth over the
 * agent's socket.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StorageHealthErrorType as StorageHealth, VolumeHealthErrorType as Health } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFailingDisk, type FailingDisk } from '../../../../test/support/failing-disk.js';
import { mountCap, newVolumeId, startTestAgent, type TestAgent } from '../../../../test/support/node-agent.js';
import { createFakeHost, detachAll, type FakeHost, type LoopDevice } from '../../../../test/support/nvme.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

describe('node health on real devices', () => {
  let host: FakeHost;
  let t: TestAgent;
  const disks: FailingDisk[] = [];
  beforeAll(async () => {
    host = await createFakeHost();
    t = await startTestAgent(host, { HEALTH_IO_TIMEOUT_MS: '1500' });
  });
  afterAll(async () => {
    await t?.close();
    await host?.cleanup();
    for (const d of disks) await d.close();
    await detachAll();
  });

  async function stageAndPublish(fsType: string, loop: LoopDevice) {
    const volumeId = newVolumeId();
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
    return { volumeId, dev, staging, target };
  }
  const health = async (v: { volumeId: string; staging: string; target: string }, paths = true) =>
    (await t.api.volumeHealth({ volumeId: v.volumeId, stagingTargetPath: paths ? v.staging : '', volumePublishPath: paths ? v.target : '' })).volumeHealth!
      .healthStatuses;
  const reasons = async (v: { volumeId: string; staging: string; target: string }, paths = true) => (await health(v, paths)).map((e) => [e.status, e.reason]);

  it('advertises the health capabilities and finds a healthy volume healthy, with its paths or without', async () => {
    const caps = (await t.api.capabilities({})).capabilities.map((c) => c.rpc?.type);
    expect(caps).toEqual(expect.arrayContaining([7, 8, 4])); // GET_VOLUME_HEALTH, GET_STORAGE_HEALTH, VOLUME_CONDITION
    const v = await stageAndPublish('ext4', await host.loop(64 * MiB));
    expect(await reasons(v)).toEqual([]);
    expect(await reasons(v, false)).toEqual([]);
    expect((await t.api.storageHealth({ secrets: {} })).backendHealth).toEqual([]);
  });

  it('the Nitro device deleted from under its mounts: INACCESSIBLE, DeviceGone', async () => {
    const v = await stageAndPublish('ext4', await host.loop(64 * MiB));
    await host.remove(v.dev.name);
    const h = await health(v);
    expect(h.map((e) => [e.status, e.reason])).toContainEqual([Health.INACCESSIBLE, 'DeviceGone']);
    expect(h.find((e) => e.reason === 'DeviceGone')?.message).toContain('vanished');
  });

  it('the kernel records an ext4 error (trigger_fs_error): DEGRADED, FilesystemErrors, naming where', async () => {
    const loop = await host.loop(64 * MiB);
    const v = await stageAndPublish('ext4', loop);
    await writeFile(`/sys/fs/ext4/${loop.path.replace('/dev/', '')}/trigger_fs_error`, 'plinth health test');
    const h = await health(v);
    expect(h.map((e) => [e.status, e.reason])).toEqual([[Health.DEGRADED, 'FilesystemErrors']]);
    expect(h[0]!.message).toMatch(/recorded 1 error \(first in \S+/);
  });

  it('xfs shut down (xfs_io -x -c shutdown): INACCESSIBLE, FilesystemUnreadable', async () => {
    const v = await stageAndPublish('xfs', await host.loop(320 * MiB));
    expect(await reasons(v)).toEqual([]);
    await exec('xfs_io', ['-x', '-c', 'shutdown', v.staging], { timeout: 30_000 });
    const h = await health(v);
    expect(h.map((e) => [e.status, e.reason])).toEqual([[Health.INACCESSIBLE, 'FilesystemUnreadable']]);
    expect(h[0]!.message).toContain('EIO');
  });

  it('an I/O error from the disk (a loop over a FUSE file failing reads): INACCESSIBLE, IoError; storage DEGRADED naming the device; healthy again once reads work', async () => {
    const disk = await startFailingDisk(await mkdtemp(join(host.root, 'failfs-')), 64 * MiB);
    disks.push(disk);
    const v = await stageAndPublish('ext4', await host.loopOver(disk.file));
    const other = await stageAndPublish('ext4', await host.loop(64 * MiB));
    expect(await reasons(v)).toEqual([]);

    await disk.fail(true);
    const h = await health(v);
    expect(h.map((e) => [e.status, e.reason])).toContainEqual([Health.INACCESSIBLE, 'IoError']);
    expect(h.find((e) => e.reason === 'IoError')?.message).toContain('Input/output error');
    expect(await reasons(other)).toEqual([]);
    // Earlier tests left a device deleted under its mounts; of the EBS devices still present, one fails.
    const storage = (await t.api.storageHealth({ secrets: {} })).backendHealth;
    expect(storage.map((e) => [e.status, e.reason])).toEqual([[StorageHealth.STORAGE_DEGRADED, 'EbsDevicesUnresponsive']]);
    expect(storage[0]!.message).toContain(v.dev.name);

    await disk.fail(false);
    expect((await reasons(v)).filter(([, r]) => r === 'IoError')).toEqual([]);
    expect((await t.api.storageHealth({ secrets: {} })).backendHealth).toEqual([]);
  });

  it('a disk that hangs: IoTimeout within the bound, and the agent keeps answering meanwhile', async () => {
    const disk = await startFailingDisk(await mkdtemp(join(host.root, 'failfs-')), 64 * MiB);
    disks.push(disk);
    const v = await stageAndPublish('ext4', await host.loopOver(disk.file));
    await disk.hang(true);
    try {
      const pending = health(v);
      // While that heartbeat waits on the hung disk, the agent's event loop is free.
      expect((await t.api.info({})).nodeId).toBeTruthy();
      const h = await pending;
      expect(h.map((e) => [e.status, e.reason])).toContainEqual([Health.INACCESSIBLE, 'IoTimeout']);
      // The hung read is not repeated: the next heartbeat answers at once from the one still waiting.
      expect((await health(v)).map((e) => e.reason)).toContain('IoTimeout');
    } finally {
      await disk.hang(false);
    }
  });
});
