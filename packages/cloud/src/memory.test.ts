import { describe, expect, it } from 'vitest';
import { cloudContract } from './contract/cloud-contract.js';
import { volumeStatusContract } from './contract/status-contract.js';
import { causeCode } from './errors.js';
import { MemoryCloud } from './memory/index.js';

cloudContract('in memory, instant', () => {
  const cloud = new MemoryCloud();
  const i = cloud.addInstance();
  const launchWithMapping = (device: string, sizeGiB: number) => Promise.resolve(cloud.addInstance({ blockDevices: [{ device, sizeGiB }] }).id);
  return Promise.resolve({ cloud, zone: i.zone, instanceId: i.id, instanceType: i.type, launchWithMapping, otherRegion: 'us-west-2' });
});

cloudContract('in memory, with EC2-like delays', () => {
  const cloud = new MemoryCloud({ delays: { create: 40, attach: 40, detach: 40, delete: 40, snapshot: 60, modify: 30, copy: 80 } });
  const i = cloud.addInstance({ type: 'm5d.large' });
  const launchWithMapping = (device: string, sizeGiB: number) => Promise.resolve(cloud.addInstance({ blockDevices: [{ device, sizeGiB }] }).id);
  return Promise.resolve({ cloud, zone: i.zone, instanceId: i.id, instanceType: i.type, launchWithMapping, otherRegion: 'eu-west-1' });
});

volumeStatusContract('in memory', () => {
  const cloud = new MemoryCloud();
  const impaired = {
    status: 'impaired',
    details: [
      { name: 'io-enabled', status: 'failed' },
      { name: 'io-performance', status: 'not-applicable' },
    ],
    events: [{ type: 'potential-data-inconsistency', description: 'I/O disabled' }],
    actions: [{ code: 'enable-volume-io', description: 'Enable volume I/O' }],
  };
  return Promise.resolve({
    cloud,
    zone: 'us-east-1a',
    impair: (id: string) => Promise.resolve(cloud.setVolumeStatus(id, impaired)),
    heal: (id: string) => Promise.resolve(cloud.setVolumeStatus(id, undefined)),
    withoutChecks: new MemoryCloud({ statusChecks: false }),
  });
});

describe('MemoryCloud', () => {
  it('moves volumes through creating → available by its clock', async () => {
    let now = 0;
    const cloud = new MemoryCloud({ now: () => now, delays: { create: 1000 } });
    const v = await cloud.volumes.create({ zone: 'us-east-1a', sizeGiB: 4, type: 'gp3', tags: {} });
    expect(v.state).toBe('creating');
    now = 999;
    expect((await cloud.volumes.get([v.id])).get(v.id)?.state).toBe('creating');
    now = 1000;
    expect((await cloud.volumes.get([v.id])).get(v.id)?.state).toBe('available');
  });

  it('throttles as EC2 does: retried within the budget, Unavailable with RequestLimitExceeded beyond it', async () => {
    const cloud = new MemoryCloud();
    cloud.throttle(1);
    await expect(cloud.zones.list()).rejects.toSatisfy((err) => causeCode(err) === 'RequestLimitExceeded' && (err as { kind: string }).kind === 'Unavailable');
    expect((await cloud.zones.list()).length).toBe(3);

    const calls: string[] = [];
    const patient = new MemoryCloud({ retryBudgetMs: 5_000, observer: { onCall: (action, outcome) => calls.push(`${action}:${outcome}`) } });
    patient.throttle(2, 'DescribeAvailabilityZones');
    expect((await patient.zones.list()).length).toBe(3);
    expect(calls).toEqual(['DescribeAvailabilityZones:throttled', 'DescribeAvailabilityZones:throttled', 'DescribeAvailabilityZones:ok']);
  });

  it('maps injected EC2 errors like real ones, and an action the endpoint lacks to Unimplemented', async () => {
    const cloud = new MemoryCloud();
    cloud.fail('CreateVolume', 'VolumeLimitExceeded');
    await expect(cloud.volumes.create({ zone: 'us-east-1a', sizeGiB: 1, type: 'gp3', tags: {} })).rejects.toMatchObject({ kind: 'ResourceExhausted' });
    cloud.fail('CopyVolumes', 'InvalidAction');
    await expect(cloud.volumes.copy({ sourceVolumeId: 'vol-1', tags: {} })).rejects.toMatchObject({ kind: 'Unimplemented' });
  });

  it('refuses shapes EC2 refuses and attaching a volume in use or in another zone', async () => {
    const cloud = new MemoryCloud();
    const a = cloud.addInstance();
    const b = cloud.addInstance({ zone: 'us-east-1b' });
    await expect(cloud.volumes.create({ zone: 'us-east-1a', sizeGiB: 10, type: 'st1', tags: {} })).rejects.toMatchObject({ kind: 'InvalidArgument' });
    const v = await cloud.volumes.create({ zone: 'us-east-1a', sizeGiB: 1, type: 'gp3', tags: {}, clientToken: 't1' });
    expect((await cloud.volumes.create({ zone: 'us-east-1a', sizeGiB: 1, type: 'gp3', tags: {}, clientToken: 't1' })).id).toBe(v.id);
    await expect(cloud.attachments.attach(v.id, b.id, '/dev/xvdba')).rejects.toSatisfy((e) => causeCode(e) === 'InvalidVolume.ZoneMismatch');
    await expect(cloud.attachments.attach(v.id, a.id, '/dev/xvda')).rejects.toSatisfy((e) => causeCode(e) === 'InvalidParameterValue');
    await cloud.attachments.attach(v.id, a.id, '/dev/xvdba');
    await expect(cloud.attachments.attach(v.id, a.id, '/dev/xvdbb')).rejects.toSatisfy((e) => causeCode(e) === 'VolumeInUse');
    await expect(cloud.volumes.modify(v.id, { sizeGiB: 0 })).rejects.toMatchObject({ kind: 'InvalidArgument' });
  });

  it('snapshots the volumes of an instance at once, excluding the boot volume when asked', async () => {
    const cloud = new MemoryCloud();
    const i = cloud.addInstance();
    const v = await cloud.volumes.create({ zone: i.zone, sizeGiB: 1, type: 'gp3', tags: {} });
    await cloud.attachments.attach(v.id, i.id, '/dev/xvdba');
    const snaps = await cloud.snapshots.createForInstance({
      instanceId: i.id,
      excludeVolumeIds: [],
      excludeBootVolume: true,
      tags: { g: '1' },
      description: 'group',
    });
    expect(snaps.map((s) => s.volumeId)).toEqual([v.id]);
  });
});
