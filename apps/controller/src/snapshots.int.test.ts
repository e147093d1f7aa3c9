import { status } from '@grpc/grpc-js';
import { CreateSnapshotCommand, type EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import { callUnary, ControllerServiceCapability_RPC_Type as Rpc, type CreateSnapshotRequest, type ListSnapshotsRequest } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { AWS_LIKE_DELAYS } from '../../../test/fault-proxy/transitions.js';
import { clusterSnapshots as clusterSnapshotsOf, deleteClusterSnapshots, deleteClusterVolumes } from '../../../test/sanity/volumes.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, uniqueCluster, volumesNamed } from '../../../test/support/ec2.js';
import { codeOf, createReq, GiB } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

const UNKNOWN_VOLUME = 'vol-0123456789abcdef0';
const UNKNOWN_SNAPSHOT = 'snap-0123456789abcdef0';

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let cluster: string;
let ec2: EC2Client;

beforeAll(async () => {
  stack = requireStack();
  ec2 = ec2Of(stack);
  // The proxy counts EC2 calls and, for one test, holds restored volumes in `creating` as EC2 does.
  proxy = await startFaultProxy(stack.ec2Endpoint);
  cluster = uniqueCluster('snapshots');
  ctl = await startController(
    testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 5), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
  );
});

afterAll(async () => {
  await ctl?.stop();
  await proxy?.close();
  if (ec2) {
    await deleteClusterSnapshots(ec2, cluster);
    await deleteClusterVolumes(ec2, cluster);
  }
});

const clusterSnapshots = () => clusterSnapshotsOf(ec2, cluster);

async function snapshotsNamed(name: string): Promise<Snapshot[]> {
  return (await clusterSnapshots()).filter((s) => s.Tags?.some((t) => t.Key === 'CSIVolumeSnapshotName' && t.Value === name));
}

let seq = 0;
const unique = (prefix: string) => `${prefix}-${cluster}-${++seq}`;

async function newVolume(): Promise<string> {
  const res = await callUnary(ctl.controller, 'createVolume', createReq(unique('vol')));
  return res.volume!.volumeId;
}

const snapReq = (name: string, sourceVolumeId: string, parameters: Record<string, string> = {}): CreateSnapshotRequest => ({
  name,
  sourceVolumeId,
  parameters,
  accessibilityRequirements: undefined,
  secrets: {},
});
const createSnapshot = (req: CreateSnapshotRequest) => callUnary(ctl.controller, 'createSnapshot', req);
const list = (over: Partial<ListSnapshotsRequest> = {}) =>
  callUnary(ctl.controller, 'listSnapshots', { maxEntries: 0, startingToken: '', sourceVolumeId: '', snapshotId: '', secrets: {}, ...over });

describe('snapshots over the real socket, against LocalStack', () => {
  it('advertises CREATE_DELETE_SNAPSHOT, LIST_SNAPSHOTS and CLONE_VOLUME (not GET_SNAPSHOT: csi-sanity v5.4.0 fails capabilities it does not know)', async () => {
    const caps = (await callUnary(ctl.controller, 'controllerGetCapabilities', {})).capabilities.map((c) => c.rpc?.type);
    expect(caps).toEqual(expect.arrayContaining([Rpc.CREATE_DELETE_SNAPSHOT, Rpc.LIST_SNAPSHOTS, Rpc.CLONE_VOLUME]));
    expect(caps).not.toContain(Rpc.GET_SNAPSHOT);
  });

  it('CreateSnapshot takes a tagged EBS snapshot, answers at once, and is idempotent by name and source (one EC2 snapshot)', async () => {
    const volumeId = await newVolume();
    const name = unique('snapshot');
    const req = snapReq(name, volumeId, {
      tagSpecification_1: 'team=storage',
      'csi.storage.k8s.io/volumesnapshot/name': 'db-backup',
      'csi.storage.k8s.io/volumesnapshot/namespace': 'db',
      'csi.storage.k8s.io/volumesnapshotcontent/name': 'snapcontent-1',
    });
    proxy.reset();
    const first = (await createSnapshot(req)).snapshot!;
    expect(first.snapshotId).toMatch(/^snap-[0-9a-f]+$/);
    expect(first.sourceVolumeId).toBe(volumeId);
    expect(first.sizeBytes).toBe(GiB);
    expect(first.creationTime).toBeInstanceOf(Date);
    // EC2 answers CreateSnapshot with the snapshot pending: not ready yet.
    expect(first.readyToUse).toBe(false);

    const inCloud = await snapshotsNamed(name);
    expect(inCloud.map((s) => s.SnapshotId)).toEqual([first.snapshotId]);
    expect(inCloud[0]!.VolumeId).toBe(volumeId);
    expect(Object.fromEntries((inCloud[0]!.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({
      CSIVolumeSnapshotName: name,
      'plinth.dev/cluster-id': cluster,
      team: 'storage',
      'kubernetes.io/created-for/volumesnapshot/name': 'db-backup',
      'kubernetes.io/created-for/volumesnapshot/namespace': 'db',
      'kubernetes.io/created-for/volumesnapshotcontent/name': 'snapcontent-1',
    });

    // external-snapshotter calls again until ready_to_use: same snapshot, now completed (LocalStack completes at once).
    const again = (await createSnapshot(req)).snapshot!;
    expect(again).toMatchObject({ snapshotId: first.snapshotId, sourceVolumeId: volumeId, sizeBytes: GiB, readyToUse: true });
    expect(await snapshotsNamed(name)).toHaveLength(1);
    expect(proxy.calls.get('CreateSnapshot')).toBe(1);
  });

  it('CreateSnapshot finds a snapshot EC2 made before a crash (tagged, unrecorded) instead of taking another', async () => {
    const volumeId = await newVolume();
    const name = unique('crashed');
    const made = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId: volumeId,
        TagSpecifications: [
          {
            ResourceType: 'snapshot',
            Tags: [
              { Key: 'CSIVolumeSnapshotName', Value: name },
              { Key: 'plinth.dev/cluster-id', Value: cluster },
            ],
          },
        ],
      }),
    );
    proxy.reset();
    const res = (await createSnapshot(snapReq(name, volumeId))).snapshot!;
    expect(res.snapshotId).toBe(made.SnapshotId);
    expect(proxy.calls.get('CreateSnapshot') ?? 0).toBe(0);
  });

  it('CreateSnapshot: same name for another source is ALREADY_EXISTS; missing or unknown arguments are refused by name', async () => {
    const [a, b] = [await newVolume(), await newVolume()];
    const name = unique('taken');
    await createSnapshot(snapReq(name, a));
    const clash = await codeOf(createSnapshot(snapReq(name, b)));
    expect(clash.code).toBe(status.ALREADY_EXISTS);
    expect(clash.details).toContain(a);

    expect((await codeOf(createSnapshot(snapReq('', a)))).code).toBe(status.INVALID_ARGUMENT);
    const noSource = await codeOf(createSnapshot(snapReq(unique('x'), '')));
    expect(noSource).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'source_volume_id is required' });
    expect((await codeOf(createSnapshot(snapReq(unique('x'), UNKNOWN_VOLUME)))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(createSnapshot(snapReq(unique('x'), 'not-a-volume')))).code).toBe(status.NOT_FOUND);

    const badTag = await codeOf(createSnapshot(snapReq(unique('x'), a, { tagSpecification_1: 'no-equals-sign' })));
    expect(badTag.code).toBe(status.INVALID_ARGUMENT);
    expect(badTag.details).toContain('tagSpecification_1');
    const unknown = await codeOf(createSnapshot(snapReq(unique('x'), a, { outpostArn: 'arn:aws:outposts:us-east-1:1:outpost/op-1' })));
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(unknown.details).toContain('outpostArn');
  });

  it('fastSnapshotRestoreAvailabilityZones: an unknown zone is INVALID_ARGUMENT; where EC2 lacks fast restore (LocalStack) FAILED_PRECONDITION and no snapshot kept', async () => {
    const volumeId = await newVolume();
    const badZone = await codeOf(createSnapshot(snapReq(unique('fsr'), volumeId, { fastSnapshotRestoreAvailabilityZones: `${stack.region}z` })));
    expect(badZone.code).toBe(status.INVALID_ARGUMENT);
    expect(badZone.details).toContain(`${stack.region}z`);

    const name = unique('fsr');
    const refused = await codeOf(createSnapshot(snapReq(name, volumeId, { fastSnapshotRestoreAvailabilityZones: stack.zone })));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toContain('fastSnapshotRestoreAvailabilityZones');
    expect(refused.details).toContain('does not offer fast snapshot restore');
    // As aws-ebs-csi-driver: the snapshot taken before enabling failed is deleted again.
    expect(await snapshotsNamed(name)).toEqual([]);
  });

  it('DeleteSnapshot deletes, and an unknown, malformed or already deleted snapshot is OK; no id is INVALID_ARGUMENT', async () => {
    const volumeId = await newVolume();
    const { snapshotId } = (await createSnapshot(snapReq(unique('del'), volumeId))).snapshot!;
    await callUnary(ctl.controller, 'deleteSnapshot', { snapshotId, secrets: {} });
    expect((await clusterSnapshots()).map((s) => s.SnapshotId)).not.toContain(snapshotId);
    await callUnary(ctl.controller, 'deleteSnapshot', { snapshotId, secrets: {} });
    await callUnary(ctl.controller, 'deleteSnapshot', { snapshotId: UNKNOWN_SNAPSHOT, secrets: {} });
    await callUnary(ctl.controller, 'deleteSnapshot', { snapshotId: 'reallyfakesnapshotid', secrets: {} });
    expect((await codeOf(callUnary(ctl.controller, 'deleteSnapshot', { snapshotId: '', secrets: {} }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('DeleteSnapshot of a snapshot a volume is still being restored from is FAILED_PRECONDITION, then succeeds once it is available', async () => {
    const volumeId = await newVolume();
    const { snapshotId } = (await createSnapshot(snapReq(unique('busy'), volumeId))).snapshot!;
    // As on EC2, a restored volume stays `creating` for a while.
    proxy.configure({ transitions: { ...AWS_LIKE_DELAYS, createMs: 6000 } });
    try {
      const name = unique('restoring');
      const restoring = callUnary(ctl.controller, 'createVolume', createReq(name, { volumeContentSource: { snapshot: { snapshotId } } }), {
        timeoutMs: 60_000,
      });
      const until = Date.now() + 20_000;
      while ((await volumesNamed(ec2, name)).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const busy = await codeOf(callUnary(ctl.controller, 'deleteSnapshot', { snapshotId, secrets: {} }));
      expect(busy.code).toBe(status.FAILED_PRECONDITION);
      expect(busy.details).toContain('being created from it');
      expect((await clusterSnapshots()).map((s) => s.SnapshotId)).toContain(snapshotId);

      const restored = await restoring;
      expect(restored.volume!.contentSource).toEqual({ snapshot: { snapshotId } });
      await callUnary(ctl.controller, 'deleteSnapshot', { snapshotId, secrets: {} });
      expect((await clusterSnapshots()).map((s) => s.SnapshotId)).not.toContain(snapshotId);
    } finally {
      proxy.configure({ transitions: false });
    }
  });

  it('ListSnapshots pages with max_entries (tokens chained, every snapshot once, even with one deleted between pages) and filters by id and source volume', async () => {
    const [a, b] = [await newVolume(), await newVolume()];
    const made: string[] = [];
    for (let i = 0; i < 4; i++) made.push((await createSnapshot(snapReq(unique('list-a'), a))).snapshot!.snapshotId);
    for (let i = 0; i < 2; i++) made.push((await createSnapshot(snapReq(unique('list-b'), b))).snapshot!.snapshotId);
    const all = (await list()).entries.map((e) => e.snapshot!.snapshotId);
    expect(new Set(all)).toEqual(new Set([...(await clusterSnapshots()).map((s) => s.SnapshotId)]));
    expect(all).toEqual(expect.arrayContaining(made));

    const seen: string[] = [];
    let token = '';
    let pages = 0;
    let deleted: string | undefined;
    do {
      const page = await list({ maxEntries: 2, startingToken: token });
      expect(page.entries.length).toBeLessThanOrEqual(2);
      for (const e of page.entries) {
        expect(e.snapshot).toMatchObject({ sizeBytes: GiB, readyToUse: true });
        seen.push(e.snapshot!.snapshotId);
      }
      token = page.nextToken;
      pages++;
      if (pages === 1) {
        // A snapshot not yet listed disappears between pages: the others are still each returned once.
        deleted = all.find((id) => !seen.includes(id))!;
        await callUnary(ctl.controller, 'deleteSnapshot', { snapshotId: deleted, secrets: {} });
      }
    } while (token);
    expect(seen).toHaveLength(new Set(seen).size);
    expect(new Set(seen)).toEqual(new Set(all.filter((id) => id !== deleted)));
    expect(pages).toBe(Math.ceil((all.length - 1) / 2));

    const kept = made.slice(0, 4).find((id) => id !== deleted)!;
    const byId = await list({ snapshotId: kept });
    expect(byId.entries.map((e) => e.snapshot)).toEqual([expect.objectContaining({ snapshotId: kept, sourceVolumeId: a })]);
    const ofB = (await list({ sourceVolumeId: b })).entries.map((e) => e.snapshot!);
    expect(ofB.map((s) => s.snapshotId).sort()).toEqual(
      made
        .slice(4)
        .filter((id) => id !== deleted)
        .sort(),
    );
    expect(ofB.every((s) => s.sourceVolumeId === b)).toBe(true);
    expect((await list({ snapshotId: made[0]!, sourceVolumeId: b })).entries).toEqual([]);
    expect((await list({ snapshotId: UNKNOWN_SNAPSHOT })).entries).toEqual([]);
    expect((await list({ snapshotId: 'none-exist-id' })).entries).toEqual([]);
    expect((await list({ sourceVolumeId: UNKNOWN_VOLUME })).entries).toEqual([]);

    expect((await codeOf(list({ startingToken: 'not-a-token' }))).code).toBe(status.ABORTED);
    expect((await codeOf(list({ maxEntries: -1 }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('GetSnapshot: found, NOT_FOUND for an unknown or malformed id, INVALID_ARGUMENT without one', async () => {
    const volumeId = await newVolume();
    const { snapshotId } = (await createSnapshot(snapReq(unique('get'), volumeId))).snapshot!;
    const got = await callUnary(ctl.controller, 'getSnapshot', { snapshotId, secrets: {} });
    expect(got.snapshot).toMatchObject({ snapshotId, sourceVolumeId: volumeId, sizeBytes: GiB, readyToUse: true });
    expect((await codeOf(callUnary(ctl.controller, 'getSnapshot', { snapshotId: UNKNOWN_SNAPSHOT, secrets: {} }))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(callUnary(ctl.controller, 'getSnapshot', { snapshotId: 'fake', secrets: {} }))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(callUnary(ctl.controller, 'getSnapshot', { snapshotId: '', secrets: {} }))).code).toBe(status.INVALID_ARGUMENT);
  });
});
