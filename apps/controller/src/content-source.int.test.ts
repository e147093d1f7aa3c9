import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { AttachVolumeCommand, CreateSnapshotCommand, DetachVolumeCommand, type EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import { callUnary, type CreateVolumeRequest } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { startNitro, type NitroHost } from '../../../test/nitro/emulator.js';
import { clusterSnapshots as clusterSnapshotsOf, deleteClusterSnapshots, deleteClusterVolumes } from '../../../test/sanity/volumes.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, uniqueCluster, volumeById } from '../../../test/support/ec2.js';
import { createFakeHost, readAt, writeAt, type FakeHost } from '../../../test/support/nvme.js';
import { codeOf, createReq, GiB } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

const zoneTopology = (zone: string) => ({ segments: { 'topology.kubernetes.io/zone': zone } });

let stack: Stack;
let ec2: EC2Client;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let cluster: string;
let host: FakeHost;
let nitro: NitroHost;
/** A zone of the region other than the stack's. */
let otherZone: string;

beforeAll(async () => {
  stack = requireStack();
  ec2 = ec2Of(stack);
  otherZone = stack.zone.endsWith('a') ? `${stack.region}b` : `${stack.region}a`;
  // The proxy counts the EC2 calls behind each clone (CopyVolumes tried, snapshot made and removed).
  proxy = await startFaultProxy(stack.ec2Endpoint);
  cluster = uniqueCluster('content');
  ctl = await startController(
    testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 6), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
  );
  // The emulated Nitro host keeps each volume's bytes and copies them into snapshots and restored volumes.
  host = await createFakeHost();
  nitro = await startNitro({ ec2, instanceId: stack.nodeId, host, dataDir: join(host.root, 'volumes'), pollMs: 100 });
});

afterAll(async () => {
  await ctl?.stop();
  await proxy?.close();
  await nitro?.stop({ purge: true });
  if (ec2) {
    await deleteClusterSnapshots(ec2, cluster);
    await deleteClusterVolumes(ec2, cluster);
  }
  await host?.cleanup();
});

const clusterSnapshots = () => clusterSnapshotsOf(ec2, cluster);

/** Intermediate snapshots of the clone `name`, as EC2 lists them. */
async function cloneSnapshots(name: string): Promise<Snapshot[]> {
  return (await clusterSnapshots()).filter((s) => s.Tags?.some((t) => t.Key === 'plinth.dev/clone-for' && t.Value === name));
}

async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let seq = 0;
const unique = (prefix: string) => `${prefix}-${cluster}-${++seq}`;

const createVolume = (req: CreateVolumeRequest) => callUnary(ctl.controller, 'createVolume', req, { timeoutMs: 60_000 });
const fromSnapshot = (snapshotId: string) => ({ snapshot: { snapshotId } });
const fromVolume = (volumeId: string) => ({ volume: { volumeId } });
const sized = (gib: number) => ({ requiredBytes: gib * GiB, limitBytes: 0 });

async function newVolume(gib: number): Promise<string> {
  return (await createVolume(createReq(unique('src'), { capacityRange: sized(gib) }))).volume!.volumeId;
}

/** Attaches with the test's own EC2 client and waits for the emulated host to present the device. */
async function attach(volumeId: string, device: string): Promise<string> {
  await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: stack.nodeId, Device: device }));
  await until(`${volumeId} attached`, async () => (await volumeById(ec2, volumeId))?.Attachments?.[0]?.State === 'attached');
  await nitro.sync();
  return join(host.devRoot, nitro.attached().get(volumeId)!.device.name);
}

async function detach(volumeId: string): Promise<void> {
  await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: stack.nodeId }));
  await until(`${volumeId} detached`, async () => ((await volumeById(ec2, volumeId))?.Attachments ?? []).length === 0);
  await nitro.sync();
}

const tagsOf = (v: { Tags?: { Key?: string; Value?: string }[] } | undefined): Record<string, string | undefined> =>
  Object.fromEntries((v?.Tags ?? []).map((t) => [t.Key ?? '', t.Value]));

describe('CreateVolume from a snapshot', () => {
  it('restores the bytes the snapshot took, at the size asked (the snapshot’s by default), with content_source; idempotent', async () => {
    const source = await newVolume(2);
    const dev = await attach(source, '/dev/xvdcs');
    await writeAt(dev, GiB + 4096, 'restore me');
    const snap = (
      await callUnary(ctl.controller, 'createSnapshot', {
        name: unique('snap'),
        sourceVolumeId: source,
        parameters: {},
        secrets: {},
        accessibilityRequirements: undefined,
      })
    ).snapshot!;
    await until('the emulated host captured the snapshot', async () => {
      await nitro.sync();
      return !!(await stat(nitro.backingFile(snap.snapshotId)).catch(() => undefined));
    });
    // Written after the snapshot: must not be in the restored volume.
    await writeAt(dev, GiB + 4096, 'later byte');
    await detach(source);

    const name = unique('restored');
    const req = createReq(name, { capacityRange: sized(3), volumeContentSource: fromSnapshot(snap.snapshotId) });
    const restored = (await createVolume(req)).volume!;
    expect(restored.capacityBytes).toBe(3 * GiB);
    expect(restored.contentSource).toEqual(fromSnapshot(snap.snapshotId));
    const inCloud = await volumeById(ec2, restored.volumeId);
    expect(inCloud).toMatchObject({ Size: 3, SnapshotId: snap.snapshotId });
    expect(tagsOf(inCloud)['plinth.dev/content-source']).toBe(`snapshot:${snap.snapshotId}`);

    const restoredDev = await attach(restored.volumeId, '/dev/xvdct');
    expect(await readAt(restoredDev, GiB + 4096, 10)).toBe('restore me');
    await detach(restored.volumeId);

    expect((await createVolume(req)).volume).toMatchObject({ volumeId: restored.volumeId, contentSource: fromSnapshot(snap.snapshotId) });

    // No capacity range: the snapshot's own size.
    const plain = (await createVolume(createReq(unique('restored'), { capacityRange: undefined, volumeContentSource: fromSnapshot(snap.snapshotId) }))).volume!;
    expect(plain.capacityBytes).toBe(2 * GiB);
    expect((await volumeById(ec2, plain.volumeId))?.Size).toBe(2);
  });

  it('refuses a volume smaller than its snapshot (OUT_OF_RANGE), an unknown snapshot (NOT_FOUND), and a name already made from another source (ALREADY_EXISTS)', async () => {
    const source = await newVolume(2);
    const snap = (
      await callUnary(ctl.controller, 'createSnapshot', {
        name: unique('snap'),
        sourceVolumeId: source,
        parameters: {},
        secrets: {},
        accessibilityRequirements: undefined,
      })
    ).snapshot!;

    const small = await codeOf(createVolume(createReq(unique('small'), { capacityRange: sized(1), volumeContentSource: fromSnapshot(snap.snapshotId) })));
    expect(small.code).toBe(status.OUT_OF_RANGE);
    expect(small.details).toContain(`snapshot ${snap.snapshotId} (2 GiB)`);
    const capped = await codeOf(
      createVolume(createReq(unique('small'), { capacityRange: { requiredBytes: 0, limitBytes: GiB }, volumeContentSource: fromSnapshot(snap.snapshotId) })),
    );
    expect(capped.code).toBe(status.OUT_OF_RANGE);

    expect((await codeOf(createVolume(createReq(unique('x'), { volumeContentSource: fromSnapshot('snap-0123456789abcdef0') })))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(createVolume(createReq(unique('x'), { volumeContentSource: fromSnapshot('non-existing-snapshot-id') })))).code).toBe(status.NOT_FOUND);

    const name = unique('taken');
    await createVolume(createReq(name, { capacityRange: sized(2), volumeContentSource: fromSnapshot(snap.snapshotId) }));
    const other = await codeOf(createVolume(createReq(name, { capacityRange: sized(2), volumeContentSource: fromVolume(source) })));
    expect(other.code).toBe(status.ALREADY_EXISTS);
    expect(other.details).toContain(`made from snapshot ${snap.snapshotId}, not volume ${source}`);
    expect((await codeOf(createVolume(createReq(name, { capacityRange: sized(2) })))).code).toBe(status.ALREADY_EXISTS);
    // And the other way round: a plain volume's name asked again with a source.
    const plain = unique('plain');
    await createVolume(createReq(plain, { capacityRange: sized(2) }));
    expect((await codeOf(createVolume(createReq(plain, { capacityRange: sized(2), volumeContentSource: fromSnapshot(snap.snapshotId) })))).code).toBe(
      status.ALREADY_EXISTS,
    );
  });
});

describe('CreateVolume from a volume (clone)', () => {
  it('where EC2 lacks CopyVolumes (LocalStack), clones through a snapshot it then deletes; in the source’s zone, with content_source; idempotent', async () => {
    const source = await newVolume(2);
    const name = unique('clone');
    // Preferred elsewhere, nothing required: the clone goes where its source is.
    const req = createReq(name, {
      capacityRange: sized(2),
      volumeContentSource: fromVolume(source),
      accessibilityRequirements: { requisite: [], preferred: [zoneTopology(otherZone)] },
    });
    proxy.reset();
    const clone = (await createVolume(req)).volume!;
    expect(clone.contentSource).toEqual(fromVolume(source));
    expect(clone.capacityBytes).toBe(2 * GiB);
    expect(clone.accessibleTopology[0]!.segments['topology.kubernetes.io/zone']).toBe(stack.zone);
    const inCloud = await volumeById(ec2, clone.volumeId);
    expect(inCloud).toMatchObject({ Size: 2, AvailabilityZone: stack.zone, State: 'available' });
    expect(tagsOf(inCloud)).toMatchObject({ CSIVolumeName: name, 'plinth.dev/content-source': `volume:${source}` });
    expect(proxy.calls.get('CopyVolumes')).toBe(1);
    expect(proxy.calls.get('CreateSnapshot')).toBe(1);
    expect(proxy.calls.get('DeleteSnapshot')).toBe(1);
    expect(await cloneSnapshots(name)).toEqual([]);

    // Asked again: the same clone, nothing new in EC2.
    expect((await createVolume(req)).volume!.volumeId).toBe(clone.volumeId);
    expect(proxy.calls.get('CreateSnapshot')).toBe(1);

    // The controller remembers that CopyVolumes is not offered.
    const second = (await createVolume(createReq(unique('clone'), { capacityRange: sized(3), volumeContentSource: fromVolume(source) }))).volume!;
    expect(second.capacityBytes).toBe(3 * GiB);
    expect(proxy.calls.get('CopyVolumes')).toBe(1);
    expect(proxy.calls.get('CreateSnapshot')).toBe(2);
  });

  it('a clone interrupted after its intermediate snapshot (a crash) carries on with that snapshot and deletes it', async () => {
    const source = await newVolume(1);
    const name = unique('clone');
    const left = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId: source,
        TagSpecifications: [
          {
            ResourceType: 'snapshot',
            Tags: [
              { Key: 'plinth.dev/clone-for', Value: name },
              { Key: 'plinth.dev/cluster-id', Value: cluster },
            ],
          },
        ],
      }),
    );
    proxy.reset();
    const clone = (await createVolume(createReq(name, { volumeContentSource: fromVolume(source) }))).volume!;
    expect(proxy.calls.get('CreateSnapshot') ?? 0).toBe(0);
    expect((await volumeById(ec2, clone.volumeId))?.SnapshotId).toBe(left.SnapshotId);
    expect(await cloneSnapshots(name)).toEqual([]);
  });

  it('refuses a clone smaller than its source (OUT_OF_RANGE), an unknown source (NOT_FOUND) and a requisite zone without the source (INVALID_ARGUMENT)', async () => {
    const source = await newVolume(2);
    const small = await codeOf(createVolume(createReq(unique('clone'), { capacityRange: sized(1), volumeContentSource: fromVolume(source) })));
    expect(small.code).toBe(status.OUT_OF_RANGE);
    expect(small.details).toContain(`volume ${source} (2 GiB)`);
    expect((await codeOf(createVolume(createReq(unique('clone'), { volumeContentSource: fromVolume('vol-0123456789abcdef0') })))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(createVolume(createReq(unique('clone'), { volumeContentSource: fromVolume('fake-vol-id') })))).code).toBe(status.NOT_FOUND);
    const elsewhere = await codeOf(
      createVolume(
        createReq(unique('clone'), {
          capacityRange: sized(2),
          volumeContentSource: fromVolume(source),
          accessibilityRequirements: { requisite: [zoneTopology(otherZone)], preferred: [] },
        }),
      ),
    );
    expect(elsewhere.code).toBe(status.INVALID_ARGUMENT);
    expect(elsewhere.details).toContain(`is in zone ${stack.zone}, outside the requisite zones (${otherZone})`);
    expect((await codeOf(createVolume(createReq(unique('x'), { volumeContentSource: {} })))).code).toBe(status.INVALID_ARGUMENT);
  });
});
