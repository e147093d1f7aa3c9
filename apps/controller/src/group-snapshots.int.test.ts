import { status } from '@grpc/grpc-js';
import { AttachVolumeCommand, DescribeSnapshotsCommand, DetachVolumeCommand, type Snapshot } from '@aws-sdk/client-ec2';
import { callUnary, GroupControllerServiceCapability_RPC_Type as GroupRpc, PluginCapability_Service_Type as Service } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, runInstance, uniqueCluster } from '../../../test/support/ec2.js';
import { codeOf, createReq, GiB } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let cluster: string;
const ec2 = () => ec2Of(stack);

async function volume(name: string, sizeGiB = 1): Promise<string> {
  const res = await callUnary(
    ctl.controller,
    'createVolume',
    createReq(`${cluster}-${name}`, { capacityRange: { requiredBytes: sizeGiB * GiB, limitBytes: 0 }, parameters: { type: 'gp3' } }),
  );
  return res.volume!.volumeId;
}

const attach = (volumeId: string, instanceId: string, device: string) =>
  ec2().send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device }));

/** Snapshots EC2 knows by id (those deleted are simply absent). */
async function snapshotsById(ids: string[]): Promise<Snapshot[]> {
  const res = await ec2().send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'snapshot-id', Values: ids }] }));
  return (res.Snapshots ?? []).filter((s) => ids.includes(s.SnapshotId ?? ''));
}

/** Snapshots EC2 holds of a volume. */
async function snapshotsOf(volumeId: string): Promise<Snapshot[]> {
  const res = await ec2().send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'volume-id', Values: [volumeId] }] }));
  return (res.Snapshots ?? []).filter((s) => s.VolumeId === volumeId);
}

const createGroup = (name: string, sourceVolumeIds: string[], parameters: Record<string, string> = {}) =>
  callUnary(ctl.group, 'createVolumeGroupSnapshot', { name: `${cluster}-${name}`, sourceVolumeIds, secrets: {}, parameters }, { timeoutMs: 60_000 });

beforeAll(async () => {
  stack = requireStack();
  proxy = await startFaultProxy(stack.ec2Endpoint);
  cluster = uniqueCluster('group');
  ctl = await startController(
    testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 15), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
  );
});

afterAll(async () => {
  await ctl?.stop();
  await proxy?.close();
});

describe('GroupController', () => {
  it('is advertised by the plugin and offers group snapshots', async () => {
    const plugin = await callUnary(ctl.identity, 'getPluginCapabilities', {});
    expect(plugin.capabilities.map((c) => c.service?.type)).toContain(Service.GROUP_CONTROLLER_SERVICE);
    const caps = await callUnary(ctl.group, 'groupControllerGetCapabilities', {});
    expect(caps.capabilities.map((c) => c.rpc?.type)).toEqual([GroupRpc.CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT]);
  });

  it('snapshots the volumes of one instance in one CreateSnapshots call, leaving its other volumes alone, idempotently', async () => {
    const instanceId = await runInstance(ec2(), stack.zone);
    const [a, b, other] = [await volume('a'), await volume('b', 2), await volume('other')];
    await attach(a, instanceId, '/dev/sdf');
    await attach(b, instanceId, '/dev/sdg');
    await attach(other, instanceId, '/dev/sdh');
    proxy.reset();

    const { groupSnapshot } = await createGroup('nightly', [b, a], { tagSpecification_1: 'team=db' });
    const g = groupSnapshot!;
    expect(g.groupSnapshotId).toMatch(/^groupsnap-[0-9a-f]{17}$/);
    expect(g.snapshots.map((s) => [s.sourceVolumeId, s.sizeBytes, s.groupSnapshotId])).toEqual(
      [
        [a, GiB, g.groupSnapshotId],
        [b, 2 * GiB, g.groupSnapshotId],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect(proxy.calls.get('CreateSnapshots')).toBe(1);
    expect(proxy.calls.get('CreateSnapshot')).toBeUndefined();

    // In EC2: tagged members, and no snapshot of the volume outside the group.
    const inEc2 = await snapshotsById(g.snapshots.map((s) => s.snapshotId));
    expect(inEc2).toHaveLength(2);
    for (const s of inEc2) {
      const tags: Record<string, string | undefined> = Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? '', t.Value]));
      expect([tags['plinth.dev/group-snapshot-id'], tags['plinth.dev/cluster-id'], tags.team]).toEqual([g.groupSnapshotId, cluster, 'db']);
    }
    expect(await snapshotsOf(other)).toEqual([]);

    // The same request again: the same group, no new snapshots.
    const again = await createGroup('nightly', [a, b], { tagSpecification_1: 'team=db' });
    expect(again.groupSnapshot!.snapshots.map((s) => s.snapshotId).sort()).toEqual(g.snapshots.map((s) => s.snapshotId).sort());
    expect(proxy.calls.get('CreateSnapshots')).toBe(1);

    // Same name, other volumes: ALREADY_EXISTS.
    expect((await codeOf(createGroup('nightly', [a, other]))).code).toBe(status.ALREADY_EXISTS);

    // Members are CSI snapshots too, naming their group (so a CO never deletes one alone).
    const listed = await callUnary(ctl.controller, 'listSnapshots', { maxEntries: 0, startingToken: '', sourceVolumeId: a, snapshotId: '', secrets: {} });
    expect(listed.entries.map((e) => [e.snapshot?.snapshotId, e.snapshot?.groupSnapshotId])).toEqual([
      [g.snapshots.find((s) => s.sourceVolumeId === a)?.snapshotId, g.groupSnapshotId],
    ]);
    const member = await callUnary(ctl.controller, 'getSnapshot', { snapshotId: g.snapshots[0]!.snapshotId, secrets: {} });
    expect(member.snapshot?.groupSnapshotId).toBe(g.groupSnapshotId);

    const got = await callUnary(ctl.group, 'getVolumeGroupSnapshot', { groupSnapshotId: g.groupSnapshotId, snapshotIds: [], secrets: {} });
    expect(got.groupSnapshot!.snapshots.map((s) => s.snapshotId).sort()).toEqual(g.snapshots.map((s) => s.snapshotId).sort());
    expect(got.groupSnapshot!.readyToUse).toBe(true);

    // A snapshot list that does not match the group is refused; the right one deletes every member.
    const ids = g.snapshots.map((s) => s.snapshotId);
    expect(
      (await codeOf(callUnary(ctl.group, 'deleteVolumeGroupSnapshot', { groupSnapshotId: g.groupSnapshotId, snapshotIds: [ids[0]!], secrets: {} }))).code,
    ).toBe(status.INVALID_ARGUMENT);
    await callUnary(ctl.group, 'deleteVolumeGroupSnapshot', { groupSnapshotId: g.groupSnapshotId, snapshotIds: ids, secrets: {} });
    expect(await snapshotsById(ids)).toEqual([]);
    await callUnary(ctl.group, 'deleteVolumeGroupSnapshot', { groupSnapshotId: g.groupSnapshotId, snapshotIds: ids, secrets: {} });
    expect((await codeOf(callUnary(ctl.group, 'getVolumeGroupSnapshot', { groupSnapshotId: g.groupSnapshotId, snapshotIds: [], secrets: {} }))).code).toBe(
      status.NOT_FOUND,
    );

    for (const v of [a, b, other]) await ec2().send(new DetachVolumeCommand({ VolumeId: v, InstanceId: instanceId }));
  });

  it('snapshots unattached volumes one by one (nothing writes to them)', async () => {
    const [c, d] = [await volume('c'), await volume('d')];
    proxy.reset();
    const { groupSnapshot } = await createGroup('idle', [c, d]);
    expect(groupSnapshot!.snapshots.map((s) => s.sourceVolumeId).sort()).toEqual([c, d].sort());
    expect(proxy.calls.get('CreateSnapshot')).toBe(2);
    expect(proxy.calls.get('CreateSnapshots')).toBeUndefined();
    await callUnary(ctl.group, 'deleteVolumeGroupSnapshot', { groupSnapshotId: groupSnapshot!.groupSnapshotId, snapshotIds: [], secrets: {} });
    expect(await snapshotsById(groupSnapshot!.snapshots.map((s) => s.snapshotId))).toEqual([]);
  });

  it('refuses volumes attached to different instances, naming them, and takes no snapshot', async () => {
    const [i1, i2] = [await runInstance(ec2(), stack.zone), await runInstance(ec2(), stack.zone)];
    const [e, f] = [await volume('e'), await volume('f')];
    await attach(e, i1, '/dev/sdf');
    await attach(f, i2, '/dev/sdf');
    const err = await codeOf(createGroup('spread', [e, f]));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain(`${e} on ${i1}`);
    expect(err.details).toContain(`${f} on ${i2}`);
    expect([...(await snapshotsOf(e)), ...(await snapshotsOf(f))]).toEqual([]);
    await ec2().send(new DetachVolumeCommand({ VolumeId: e, InstanceId: i1 }));
    await ec2().send(new DetachVolumeCommand({ VolumeId: f, InstanceId: i2 }));
  });

  it('answers bad requests with the code and the field', async () => {
    const vol = await volume('g');
    const noName = await codeOf(callUnary(ctl.group, 'createVolumeGroupSnapshot', { name: '', sourceVolumeIds: [vol], secrets: {}, parameters: {} }));
    expect([noName.code, noName.details]).toEqual([status.INVALID_ARGUMENT, 'name is required']);
    const noSources = await codeOf(createGroup('none', []));
    expect([noSources.code, noSources.details]).toEqual([status.INVALID_ARGUMENT, 'source_volume_ids is required']);
    const ghost = await codeOf(createGroup('ghost', [vol, 'vol-0123456789abcdef0']));
    expect(ghost.code).toBe(status.NOT_FOUND);
    expect(ghost.details).toContain('vol-0123456789abcdef0');
    const badParam = await codeOf(createGroup('params', [vol], { iops: '3000' }));
    expect(badParam.code).toBe(status.INVALID_ARGUMENT);
    expect(badParam.details).toContain('"iops"');
    expect(await codeOf(callUnary(ctl.group, 'getVolumeGroupSnapshot', { groupSnapshotId: '', snapshotIds: [], secrets: {} }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    expect(await codeOf(callUnary(ctl.group, 'getVolumeGroupSnapshot', { groupSnapshotId: 'no-such-group', snapshotIds: [], secrets: {} }))).toMatchObject({
      code: status.NOT_FOUND,
    });
    expect(await codeOf(callUnary(ctl.group, 'deleteVolumeGroupSnapshot', { groupSnapshotId: '', snapshotIds: [], secrets: {} }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    await callUnary(ctl.group, 'deleteVolumeGroupSnapshot', { groupSnapshotId: 'no-such-group', snapshotIds: [], secrets: {} });
  });
});
