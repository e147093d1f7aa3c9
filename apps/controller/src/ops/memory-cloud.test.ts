import { MemoryCloud } from '@plinth/cloud/memory';
import { createLogger } from '@plinth/logger';
import type { OpContext } from '@plinth/queue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GiB } from '../capacity.js';
import { Cloud } from '../cloud.js';
import { parseVolumeParams } from '../params/volume-params.js';
import { createSnapshotOp } from './create-snapshot.js';
import { createVolumeOp, type CreateVolumeJob } from './create-volume.js';
import { removeSnapshot } from './delete-snapshot.js';
import { deleteVolumeOp } from './delete-volume.js';
import { MemoryDeviceNames } from '../devices.js';
import { MemoryNamesSeen } from '../names-seen.js';
import { publishOp } from './publish.js';
import { unpublishOp } from './unpublish.js';

const log = createLogger({ name: 'test', level: 'silent' });
const seen = new MemoryNamesSeen();
const ctx = (): OpContext => ({ signal: new AbortController().signal, jobId: 'j', attempt: 1, log });
const job = (over: Partial<CreateVolumeJob> = {}): CreateVolumeJob => ({
  name: 'pvc-1',
  sizeGiB: 4,
  requiredBytes: 4 * GiB,
  limitBytes: 0,
  zone: 'us-east-1a',
  allowedZones: [],
  params: parseVolumeParams({}),
  multiAttach: false,
  ...over,
});

/** The controller's operations against the in-memory EC2, with EC2-like delays. */
describe('operations on the in-memory cloud', () => {
  let cloud: Cloud | undefined;
  const setup = () => {
    const api = new MemoryCloud({ delays: { create: 30, attach: 30, detach: 30, snapshot: 30 } });
    cloud = new Cloud(api, 'c1', { pollIntervalMs: 10, log });
    return { api, cloud };
  };
  afterEach(() => cloud?.watcher.close(new Error('test over')));

  it('creates a volume once per name, waits until it is available, and refuses the name with another size', async () => {
    const { cloud } = setup();
    const create = createVolumeOp(cloud, seen);
    const made = await create(job(), ctx());
    expect(made).toEqual({ volumeId: expect.stringMatching(/^vol-/) as unknown, sizeGiB: 4, zone: 'us-east-1a' });
    expect((await cloud.api.volumes.get([made.volumeId])).get(made.volumeId)).toMatchObject({
      state: 'available',
      tags: { CSIVolumeName: 'pvc-1', 'plinth.dev/cluster-id': 'c1' },
    });
    expect(await create(job(), ctx())).toEqual(made);
    await expect(create(job({ sizeGiB: 8, requiredBytes: 8 * GiB }), ctx())).rejects.toMatchObject({ kind: 'AlreadyExists' });
  });

  it('looks a name up by tag only when an earlier attempt may have made its volume: not on the first sight of a name', async () => {
    const { api, cloud } = setup();
    const lookups = vi.spyOn(api.volumes, 'findByName');
    const create = createVolumeOp(cloud, new MemoryNamesSeen());
    const made = await create(job({ name: 'pvc-first' }), ctx());
    expect(lookups).not.toHaveBeenCalled();
    // The provisioner asks again (its call timed out): the look-up finds the volume, no second one is made.
    expect(await create(job({ name: 'pvc-first' }), ctx())).toEqual(made);
    expect(lookups).toHaveBeenCalledTimes(1);
    // A retried job (its first attempt may have reached EC2) looks up even for a name never seen before.
    const retried = await create(job({ name: 'pvc-retried' }), { ...ctx(), attempt: 2 });
    expect(lookups).toHaveBeenCalledTimes(2);
    const all = await api.volumes.findByName('c1', ['pvc-first', 'pvc-retried']);
    expect(all.get('pvc-first')?.map((v) => v.id)).toEqual([made.volumeId]);
    expect(all.get('pvc-retried')?.map((v) => v.id)).toEqual([retried.volumeId]);
  });

  it("sends aws-ebs-csi-driver's tags and settings to EC2: templates, extra and ownership tags, iopsPerGB, the initialization rate of a restore", async () => {
    const api = new MemoryCloud();
    cloud = new Cloud(api, 'c1', { pollIntervalMs: 10, log, k8sClusterId: 'prod', extraTags: { team: 'all', tier: 'extra' } });
    const params = parseVolumeParams({
      type: 'io2',
      iopsPerGB: '50',
      allowAutoIOPSIncreaseOnModify: 'true',
      volumeInitializationRate: '200',
      tagSpecification_1: 'owner={{ .PVCNamespace | toUpper }}/{{ .PVCName }}',
      tagSpecification_2: 'tier=class',
      'csi.storage.k8s.io/pvc/name': 'data',
      'csi.storage.k8s.io/pvc/namespace': 'db',
    });
    const create = createVolumeOp(cloud, seen);
    const { volumeId } = await create(job({ params, iops: 200 }), ctx());
    const v = (await api.volumes.get([volumeId])).get(volumeId);
    expect(v).toMatchObject({ type: 'io2', iops: 200, initializationRate: undefined });
    expect(v?.tags).toEqual({
      owner: 'DB/data',
      team: 'all',
      tier: 'class',
      CSIVolumeName: 'pvc-1',
      Name: 'prod-dynamic-pvc-1',
      KubernetesCluster: 'prod',
      'kubernetes.io/cluster/prod': 'owned',
      'ebs.csi.aws.com/cluster': 'true',
      'ebs.csi.aws.com/cluster-name': 'prod',
      'plinth.dev/cluster-id': 'c1',
      'plinth.dev/iops-per-gb': '50',
      'plinth.dev/allow-auto-iops-increase-on-modify': 'true',
      'kubernetes.io/created-for/pvc/name': 'data',
      'kubernetes.io/created-for/pvc/namespace': 'db',
    });
    // The rate goes out only with a snapshot to restore (EC2 refuses it otherwise).
    const snap = await api.snapshots.create({ volumeId, tags: {} });
    await cloud.api.snapshots.get([snap.id]);
    const restored = await create(job({ name: 'pvc-2', params, iops: 200, source: { snapshotId: snap.id } }), ctx());
    expect((await api.volumes.get([restored.volumeId])).get(restored.volumeId)?.initializationRate).toBe(200);
  });

  it('clones under a Kubernetes cluster id (Name is not the CSI name) and removes the intermediate snapshot', async () => {
    const api = new MemoryCloud();
    cloud = new Cloud(api, 'c1', { pollIntervalMs: 10, log, k8sClusterId: 'prod' });
    const create = createVolumeOp(cloud, seen);
    const { volumeId } = await create(job(), ctx());
    api.fail('CopyVolumes', 'InvalidAction', 1);
    const clone = await create(job({ name: 'pvc-clone', source: { volumeId }, params: parseVolumeParams({ tagSpecification_1: 'Name=mine' }) }), ctx());
    expect((await api.volumes.get([clone.volumeId])).get(clone.volumeId)?.tags).toMatchObject({ CSIVolumeName: 'pvc-clone', Name: 'mine' });
    expect(await api.snapshots.list('c1')).toEqual([]);
  });

  it('refuses to delete an attached volume naming the node, and deletes it once detached; a gone one is success', async () => {
    const { api, cloud } = setup();
    const node = api.addInstance();
    const { volumeId } = await createVolumeOp(cloud, seen)(job(), ctx());
    await api.attachments.attach(volumeId, node.id, '/dev/xvdba');
    const remove = deleteVolumeOp(cloud);
    await expect(remove({ volumeId }, ctx())).rejects.toMatchObject({ kind: 'FailedPrecondition', message: expect.stringContaining(node.id) as unknown });
    await api.attachments.detach(volumeId, node.id);
    await cloud.watcher.waitFor(volumeId, (v) => v?.state === 'available', 5000);
    await remove({ volumeId }, ctx());
    await expect(remove({ volumeId: 'vol-0123456789abcdef0' }, ctx())).resolves.toEqual({});
  });

  it('takes a snapshot once per name and deletes it; a throttled EC2 surfaces as Unavailable', async () => {
    const { api, cloud } = setup();
    const { volumeId } = await createVolumeOp(cloud, seen)(job(), ctx());
    const snap = createSnapshotOp(cloud);
    const params = { tags: {}, fastRestoreZones: [], metadataTags: {} };
    const first = await snap({ name: 'snap-1', sourceVolumeId: volumeId, params }, ctx());
    expect(first).toMatchObject({ sourceVolumeId: volumeId, readyToUse: false });
    expect((await snap({ name: 'snap-1', sourceVolumeId: volumeId, params }, ctx())).snapshotId).toBe(first.snapshotId);
    api.throttle(1);
    await expect(removeSnapshot(cloud, first.snapshotId, ctx().signal)).rejects.toMatchObject({ kind: 'Unavailable' });
    await removeSnapshot(cloud, first.snapshotId, ctx().signal);
    expect((await api.snapshots.get([first.snapshotId])).size).toBe(0);
  });

  const publishing = (cloud: Cloud, limit = 0) => {
    const devices = new MemoryDeviceNames();
    return { devices, publish: publishOp(cloud, devices, () => Promise.resolve(limit)), unpublish: unpublishOp(cloud, devices) };
  };
  const pub = (volumeId: string, nodeId: string) => ({ volumeId, nodeId, accessMode: '1', readonly: false });

  it('attaches a volume it just saw created without describing it again; one attached meanwhile elsewhere is FAILED_PRECONDITION', async () => {
    const { api, cloud } = setup();
    const node = api.addInstance();
    const other = api.addInstance();
    const { volumeId } = await createVolumeOp(cloud, seen)(job({ name: 'pvc-fresh' }), ctx());
    const describes = vi.spyOn(api.volumes, 'get');
    const attaches = vi.spyOn(api.attachments, 'attach');
    const { publish } = publishing(cloud);
    expect(await publish(pub(volumeId, node.id), ctx())).toEqual({ devicePath: expect.stringMatching(/^\/dev\/xvd/) as unknown });
    // AttachVolume came first; only the wait for "attached" described the volume.
    const attachedAt = attaches.mock.invocationCallOrder[0]!;
    expect(describes.mock.invocationCallOrder.filter((order) => order < attachedAt)).toEqual([]);
    const before = describes.mock.calls.length;

    const { volumeId: second } = await createVolumeOp(cloud, seen)(job({ name: 'pvc-raced' }), ctx());
    // Attached behind this controller's back after it last saw the volume: AttachVolume refuses, the error names the node.
    await api.attachments.attach(second, other.id, '/dev/xvdbz');
    await expect(publish(pub(second, node.id), ctx())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: `volume ${second} is attached to node ${other.id}; it must be unpublished there first`,
    });
    expect(describes.mock.calls.length).toBeGreaterThan(before);
  });

  it('attaches under a name the node does not use, waits until attached, and answers the same device again', async () => {
    const { api, cloud } = setup();
    const node = api.addInstance({ rootDevice: '/dev/xvdaa' });
    const { volumeId } = await createVolumeOp(cloud, seen)(job(), ctx());
    const { publish, devices } = publishing(cloud);
    const first = await publish(pub(volumeId, node.id), ctx());
    expect(first).toEqual({ devicePath: '/dev/xvdab' });
    expect((await api.volumes.get([volumeId])).get(volumeId)?.attachments).toEqual([
      expect.objectContaining({ instanceId: node.id, device: '/dev/xvdab', state: 'attached' }),
    ]);
    expect(await publish(pub(volumeId, node.id), ctx())).toEqual(first);
    expect(await devices.held(node.id)).toEqual(new Map([['/dev/xvdab', volumeId]]));
  });

  it('refuses a volume attached elsewhere, one in another zone, an unknown node or volume, and a node at its attach limit', async () => {
    const { api, cloud } = setup();
    const a = api.addInstance();
    const b = api.addInstance();
    const far = api.addInstance({ zone: 'us-east-1b' });
    const { volumeId } = await createVolumeOp(cloud, seen)(job(), ctx());
    const { publish } = publishing(cloud);
    await publish(pub(volumeId, a.id), ctx());
    await expect(publish(pub(volumeId, b.id), ctx())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining(`attached to node ${a.id}`) as unknown,
    });
    const other = await createVolumeOp(cloud, seen)(job({ name: 'pvc-2' }), ctx());
    await expect(publish(pub(other.volumeId, far.id), ctx())).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('zone us-east-1b') as unknown,
    });
    await expect(publish(pub(other.volumeId, 'i-0123456789abcdef0'), ctx())).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining('node i-0123456789abcdef0') as unknown,
    });
    await expect(publish(pub('vol-0123456789abcdef0', a.id), ctx())).rejects.toMatchObject({ kind: 'NotFound' });
    const full = publishing(cloud, 1);
    await full.publish(pub(other.volumeId, b.id), ctx());
    const third = await createVolumeOp(cloud, seen)(job({ name: 'pvc-3' }), ctx());
    await expect(full.publish(pub(third.volumeId, b.id), ctx())).rejects.toMatchObject({ kind: 'ResourceExhausted' });
    expect((await api.volumes.get([third.volumeId])).get(third.volumeId)?.attachments).toEqual([]);
  });

  it('detaches, waits until detached and frees the name; a volume already detached or a node gone is success', async () => {
    const { api, cloud } = setup();
    const node = api.addInstance();
    const { volumeId } = await createVolumeOp(cloud, seen)(job(), ctx());
    const { publish, unpublish, devices } = publishing(cloud);
    await publish(pub(volumeId, node.id), ctx());
    await expect(unpublish({ volumeId, nodeId: node.id }, ctx())).resolves.toEqual({});
    expect((await api.volumes.get([volumeId])).get(volumeId)).toMatchObject({ state: 'available', attachments: [] });
    expect((await devices.held(node.id)).size).toBe(0);
    await expect(unpublish({ volumeId, nodeId: node.id }, ctx())).resolves.toEqual({});
    await expect(unpublish({ volumeId, nodeId: 'i-0123456789abcdef0' }, ctx())).resolves.toEqual({});
  });
});
