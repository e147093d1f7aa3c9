import { HealthGauge, StorageHealthErrorType as StorageHealth, VolumeHealthErrorType as Health, type NodeGetVolumeHealthRequest } from '@plinth/csi';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { blockCap, blockTargetOf, fakeContext, OTHER, publishReq, stagedVolume, stagingOf, targetOf, VOL } from './fake-context.js';
import { nodePublishVolume } from './publish.js';
import { nodeGetStorageHealth } from './storage-health.js';
import { nodeGetVolumeHealth } from './volume-health.js';

const req = (over: Partial<NodeGetVolumeHealthRequest> = {}): NodeGetVolumeHealthRequest => ({
  volumeId: VOL,
  volumePublishPath: targetOf(VOL),
  stagingTargetPath: stagingOf(VOL),
  ...over,
});
const reasons = async (ctx: Parameters<typeof nodeGetVolumeHealth>[0], r = req()) =>
  (await nodeGetVolumeHealth(ctx, r)).volumeHealth!.healthStatuses.map((e) => [e.status, e.reason]);

describe('NodeGetVolumeHealth', () => {
  it('reports a staged and published volume healthy, with or without its paths, after one heartbeat read of its device', async () => {
    const { ctx, os, dev } = await stagedVolume({ publish: true });
    expect(await nodeGetVolumeHealth(ctx, req())).toEqual({ volumeHealth: { volumeId: VOL, healthStatuses: [] } });
    expect(os.callsOf('readProbe')).toEqual([[`/dev/${dev.name}`, 1000]]);
    expect(await reasons(ctx, req({ volumePublishPath: '', stagingTargetPath: '' }))).toEqual([]);
    // Without paths, the volume's mounts under the kubelet root are the ones checked.
    expect(os.callsOf('readDir').slice(-2)).toEqual([
      [stagingOf(VOL), 1000],
      [targetOf(VOL), 1000],
    ]);
  });

  it('is INVALID_ARGUMENT without a volume id, NOT_FOUND for a volume neither attached nor at a given path', async () => {
    const { ctx } = fakeContext();
    await expect(nodeGetVolumeHealth(ctx, req({ volumeId: '' }))).rejects.toMatchObject({ kind: 'InvalidArgument', message: 'volume_id is required' });
    await expect(nodeGetVolumeHealth(ctx, req({ volumeId: OTHER, volumePublishPath: '', stagingTargetPath: '' }))).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining(OTHER) as string,
    });
    await expect(nodeGetVolumeHealth(ctx, req({ stagingTargetPath: '/etc' }))).rejects.toMatchObject({ kind: 'InvalidArgument' });
  });

  it('is INACCESSIBLE when the device is gone from under its mounts', async () => {
    const { ctx, os, dev } = await stagedVolume({ publish: true });
    os.removeDevice(dev.name);
    const h = (await nodeGetVolumeHealth(ctx, req())).volumeHealth!;
    expect(h.healthStatuses.map((e) => [e.status, e.reason])).toEqual([[Health.INACCESSIBLE, 'DeviceGone']]);
    expect(h.healthStatuses[0]!.message).toContain('vanished');
  });

  it('is INACCESSIBLE when a read of the device fails or does not answer', async () => {
    const { ctx, os, dev } = await stagedVolume({ publish: true });
    os.setIo(dev.name, { kind: 'error', message: "error reading '/dev/nvme1n1': Input/output error" });
    const failed = (await nodeGetVolumeHealth(ctx, req())).volumeHealth!.healthStatuses;
    expect(failed).toEqual([{ status: Health.INACCESSIBLE, reason: 'IoError', message: expect.stringContaining('Input/output error') as string }]);
    os.setIo(dev.name, { kind: 'timeout', ms: 1000 });
    expect(await reasons(ctx)).toEqual([[Health.INACCESSIBLE, 'IoTimeout']]);
    os.setIo(dev.name, undefined);
    expect(await reasons(ctx)).toEqual([]);
  });

  it('is INACCESSIBLE when a path is no longer mounted, and when it is mounted from another device', async () => {
    const { ctx, os } = await stagedVolume({ publish: true });
    await os.unmount(targetOf(VOL));
    expect(await reasons(ctx)).toEqual([[Health.INACCESSIBLE, 'MountMissing']]);

    const other = os.addDevice({ volumeId: OTHER, fs: 'ext4' });
    await os.mount(`/dev/${other.name}`, targetOf(VOL), 'ext4', ['defaults']);
    const h = (await nodeGetVolumeHealth(ctx, req())).volumeHealth!.healthStatuses;
    expect(h.map((e) => e.reason)).toEqual(['MountWrongDevice']);
    expect(h[0]!.message).toContain(other.majMin);
  });

  it('is DEGRADED once ext4 records errors, once for both paths of the one filesystem', async () => {
    const { ctx, os, dev } = await stagedVolume({ publish: true });
    os.fsError(dev.name, 'ext4_lookup');
    os.fsError(dev.name, 'ext4_find_entry');
    const h = (await nodeGetVolumeHealth(ctx, req())).volumeHealth!.healthStatuses;
    expect(h).toEqual([
      {
        status: Health.DEGRADED,
        reason: 'FilesystemErrors',
        message: `the ext4 filesystem of volume ${VOL} recorded 2 errors (first in ext4_lookup, last in ext4_find_entry); check it with fsck at the next unstage`,
      },
    ]);
  });

  it('is INACCESSIBLE when the filesystem is shut down or went read-only after errors', async () => {
    const { ctx, os, dev } = await stagedVolume({ publish: true });
    os.superReadOnly(dev.majMin);
    expect(await reasons(ctx)).toEqual([[Health.INACCESSIBLE, 'FilesystemReadOnly']]);
    os.shutdownFs(dev.name);
    expect(await reasons(ctx)).toEqual([
      [Health.INACCESSIBLE, 'FilesystemUnreadable'],
      [Health.INACCESSIBLE, 'FilesystemReadOnly'],
    ]);
  });

  it('heartbeats a block volume; once its device is gone, through the file the device was bound onto', async () => {
    const { ctx, os, dev } = await stagedVolume({ cap: blockCap(), publish: false });
    await nodePublishVolume(ctx, publishReq({ volumeCapability: blockCap(), targetPath: blockTargetOf(VOL) }));
    const block = req({ volumePublishPath: blockTargetOf(VOL), stagingTargetPath: '' });
    expect(await reasons(ctx, block)).toEqual([]);
    expect(os.callsOf('readProbe').at(-1)).toEqual([`/dev/${dev.name}`, 1000]);
    os.removeDevice(dev.name);
    expect(await reasons(ctx, block)).toEqual([
      [Health.INACCESSIBLE, 'DeviceGone'],
      [Health.INACCESSIBLE, 'IoError'],
    ]);
    expect(os.callsOf('readProbe').at(-1)).toEqual([blockTargetOf(VOL), 1000]);
  });

  it('feeds plinth_volume_health: the problems while they last, nothing once healthy', async () => {
    const { ctx, os, dev } = await stagedVolume({ publish: true });
    const registry = new Registry();
    ctx.health = new HealthGauge(registry, 'test');
    const series = async () => (await registry.getSingleMetric('plinth_volume_health')!.get()).values.map((v) => v.labels);
    os.setIo(dev.name, { kind: 'timeout', ms: 1000 });
    await nodeGetVolumeHealth(ctx, req());
    expect(await series()).toEqual([{ volume_id: VOL, status: 'inaccessible', reason: 'IoTimeout' }]);
    os.setIo(dev.name, undefined);
    await nodeGetVolumeHealth(ctx, req());
    expect(await series()).toEqual([]);
  });
});

describe('NodeGetStorageHealth', () => {
  it('has nothing to report with no EBS device or all answering; DEGRADED when some do not answer, UNREACHABLE when none do', async () => {
    const { ctx, os } = fakeContext();
    expect(await nodeGetStorageHealth(ctx)).toEqual({ backendHealth: [] });
    const a = os.addDevice({ volumeId: VOL });
    const b = os.addDevice({ volumeId: OTHER });
    os.addDevice({ name: 'xvda' }); // not EBS NVMe: not probed
    expect(await nodeGetStorageHealth(ctx)).toEqual({ backendHealth: [] });
    expect(
      os
        .callsOf('readProbe')
        .map((c) => c[0])
        .sort(),
    ).toEqual([`/dev/${a.name}`, `/dev/${b.name}`]);
    os.setIo(a.name, { kind: 'timeout', ms: 1000 });
    const some = (await nodeGetStorageHealth(ctx)).backendHealth;
    expect(some.map((e) => [e.status, e.reason])).toEqual([[StorageHealth.STORAGE_DEGRADED, 'EbsDevicesUnresponsive']]);
    expect(some[0]!.message).toContain(`1 of 2`);
    os.setIo(b.name, { kind: 'error', message: 'Input/output error' });
    expect((await nodeGetStorageHealth(ctx)).backendHealth.map((e) => [e.status, e.reason])).toEqual([[StorageHealth.STORAGE_UNREACHABLE, 'EbsUnreachable']]);
  });
});

describe('NodeGetVolumeHealth on a hung device', () => {
  it('does not read the filesystem of a device whose heartbeat did not answer (the read would hang too)', async () => {
    const { ctx, os, dev } = await stagedVolume({ publish: true });
    os.setIo(dev.name, { kind: 'timeout', ms: 1000 });
    const before = os.callsOf('readDir').length;
    expect(await reasons(ctx)).toEqual([[Health.INACCESSIBLE, 'IoTimeout']]);
    expect(os.callsOf('readDir').length).toBe(before);
  });
});
