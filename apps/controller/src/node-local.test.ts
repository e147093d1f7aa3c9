import { MemoryCloud } from '@plinth/cloud/memory';
import { VolumeCapability_AccessMode_Mode as Mode, type CallContext, type ControllerPublishVolumeRequest, type VolumeCapability } from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { Cloud } from './cloud.js';
import { loadConfig } from './config.js';
import { contentSourceOf } from './content-source.js';
import type { Deps } from './deps.js';
import { nodeLocalCapabilityProblem, nodeLocalVolumeOn } from './node-local.js';
import { createSnapshot } from './rpc/create-snapshot.js';
import { deleteVolume } from './rpc/delete-volume.js';
import { controllerExpandVolume } from './rpc/expand-volume.js';
import { controllerGetVolume } from './rpc/get-volume.js';
import { createVolumeGroupSnapshot } from './rpc/group/create-group-snapshot.js';
import { controllerModifyVolume } from './rpc/modify-volume.js';
import { controllerPublishVolume } from './rpc/publish.js';
import { controllerUnpublishVolume } from './rpc/unpublish.js';
import { validateVolumeCapabilities } from './rpc/validate.js';

const log = createLogger({ name: 'test', level: 'silent' });
const HANDLE = 'local-ebs://dev/xvdbz';
const ctx: CallContext = { deadline: Infinity, signal: new AbortController().signal, method: 'test' };
const config = (on: boolean) => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', AWS_REGION: 'us-east-1', ENABLE_NODE_LOCAL_VOLUMES: String(on) });

const mountCap = (mode = Mode.SINGLE_NODE_WRITER, fsType = 'xfs'): VolumeCapability => ({
  accessMode: { mode },
  mount: { fsType, mountFlags: [], volumeMountGroup: '' },
});
const blockCap = (mode = Mode.SINGLE_NODE_WRITER): VolumeCapability => ({ accessMode: { mode }, block: {} });

/**
 * Deps whose every member but `given` throws when touched: a handler that
 * answers through it never queued a job (no attach, detach, delete) nor
 * reached anything it was not given.
 */
function strictDeps(given: Partial<Deps>): Deps {
  return new Proxy(given, {
    get(target, key: string) {
      if (key in target) return target[key as keyof Deps];
      throw new Error(`handler touched deps.${key}`);
    },
  }) as Deps;
}

/** EC2 in memory with one node whose launch mapped an extra 20 GiB volume at /dev/xvdbz; `calls` lists every EC2 action made. */
function world() {
  const calls: string[] = [];
  const api = new MemoryCloud({ observer: { onCall: (action) => calls.push(action) } });
  const node = api.addInstance({ blockDevices: [{ device: '/dev/xvdbz', sizeGiB: 20 }] });
  const local = node.blockDevices.find((b) => b.device === '/dev/xvdbz')!.volumeId!;
  const cloud = new Cloud(api, 'c1', { pollIntervalMs: 10, log });
  clouds.push(cloud);
  return { api, cloud, node, local, calls };
}
const clouds: Cloud[] = [];
afterEach(() => {
  for (const c of clouds.splice(0)) c.watcher.close(new Error('test over'));
});

const publishReq = (nodeId: string, over: Partial<ControllerPublishVolumeRequest> = {}): ControllerPublishVolumeRequest => ({
  volumeId: HANDLE,
  nodeId,
  volumeCapability: mountCap(),
  readonly: false,
  secrets: {},
  volumeContext: {},
  ...over,
});

describe('ControllerPublishVolume of a node-local handle', () => {
  it("answers the device and the EBS volume the node's instance has mapped there, from one DescribeInstances and one DescribeVolumes: no job, no AttachVolume", async () => {
    const { cloud, node, local, calls } = world();
    const res = await controllerPublishVolume(strictDeps({ config: config(true), cloud }), publishReq(node.id), ctx);
    expect(res).toEqual({ publishContext: { devicePath: '/dev/xvdbz', volumeID: local } });
    expect(calls).toEqual(['DescribeInstances', 'DescribeVolumes']);
  });

  it('finds each node its own volume at the same device', async () => {
    const { api, cloud, node, local } = world();
    const other = api.addInstance({ blockDevices: [{ device: '/dev/xvdbz', sizeGiB: 20 }] });
    const deps = strictDeps({ config: config(true), cloud });
    const a = await controllerPublishVolume(deps, publishReq(node.id), ctx);
    const b = await controllerPublishVolume(deps, publishReq(other.id), ctx);
    expect(a.publishContext.volumeID).toBe(local);
    expect(b.publishContext.volumeID).toBe(other.blockDevices.find((m) => m.device === '/dev/xvdbz')!.volumeId);
    expect(b.publishContext.volumeID).not.toBe(local);
  });

  it('answers concurrent publishes for many nodes as it would one by one, from one coalesced DescribeInstances and DescribeVolumes', async () => {
    const { api, cloud, calls } = world();
    const nodes = Array.from({ length: 8 }, () => api.addInstance({ blockDevices: [{ device: '/dev/xvdbz', sizeGiB: 20 }] }));
    const deps = strictDeps({ config: config(true), cloud });
    const answers = await Promise.all(nodes.map((n) => controllerPublishVolume(deps, publishReq(n.id), ctx)));
    expect(answers.map((a) => a.publishContext.volumeID)).toEqual(nodes.map((n) => n.blockDevices.find((b) => b.device === '/dev/xvdbz')!.volumeId));
    expect(calls).toEqual(['DescribeInstances', 'DescribeVolumes']);
  });

  it('is refused while the feature is off, saying how to turn it on, before any EC2 call', async () => {
    const { cloud, node, calls } = world();
    await expect(controllerPublishVolume(strictDeps({ config: config(false), cloud }), publishReq(node.id), ctx)).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringMatching(/node-local volumes are not enabled; set ENABLE_NODE_LOCAL_VOLUMES=true .*controller\.enableNodeLocalVolumes/) as string,
    });
    expect(calls).toEqual([]);
  });

  it('refuses the root device: INVALID_ARGUMENT naming it and the instance', async () => {
    const { cloud, node } = world();
    const req = publishReq(node.id, { volumeId: 'local-ebs://dev/xvda' });
    await expect(controllerPublishVolume(strictDeps({ config: config(true), cloud }), req, ctx)).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: `volume_id local-ebs://dev/xvda: /dev/xvda is the root device of instance ${node.id}; the root device cannot be a node-local volume`,
    });
  });

  it('a device with no volume mapped on the instance is NOT_FOUND naming device and instance; an unknown instance is NOT_FOUND naming it', async () => {
    const { cloud, node } = world();
    const deps = strictDeps({ config: config(true), cloud });
    await expect(controllerPublishVolume(deps, publishReq(node.id, { volumeId: 'local-ebs://dev/xvdbq' }), ctx)).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining(`no EBS volume is mapped at /dev/xvdbq on instance ${node.id}`) as string,
    });
    await expect(controllerPublishVolume(deps, publishReq('i-0fffffffffffffff1'), ctx)).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining('node i-0fffffffffffffff1 not found') as string,
    });
  });

  it('refuses a malformed handle, a missing node or capability, and capabilities no EBS volume serves, before any EC2 call', async () => {
    const { cloud, node, calls } = world();
    const deps = strictDeps({ config: config(true), cloud });
    const refused = async (req: ControllerPublishVolumeRequest, message: RegExp) =>
      expect(controllerPublishVolume(deps, req, ctx)).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(message) as string });
    await refused(publishReq(node.id, { volumeId: 'local-ebs://xvdbz' }), /volume_id "local-ebs:\/\/xvdbz" is not a node-local volume handle/);
    await refused(publishReq(''), /node_id is required/);
    await refused(publishReq(node.id, { volumeCapability: undefined }), /volume_capability is required/);
    await refused(publishReq(node.id, { volumeCapability: mountCap(Mode.MULTI_NODE_READER_ONLY) }), /MULTI_NODE_READER_ONLY is not supported/);
    await refused(publishReq(node.id, { volumeCapability: mountCap(Mode.SINGLE_NODE_WRITER, 'btrfs') }), /fs_type "btrfs"/);
    expect(calls).toEqual([]);
  });

  it('takes MULTI_NODE_MULTI_WRITER for a filesystem too (each node mounts its own volume), as aws-ebs-csi-driver', async () => {
    const { cloud, node, local } = world();
    const res = await controllerPublishVolume(
      strictDeps({ config: config(true), cloud }),
      publishReq(node.id, { volumeCapability: mountCap(Mode.MULTI_NODE_MULTI_WRITER) }),
      ctx,
    );
    expect(res.publishContext.volumeID).toBe(local);
    expect(nodeLocalCapabilityProblem(blockCap(Mode.MULTI_NODE_MULTI_WRITER))).toBeUndefined();
  });

  it("never hands over another PV's volume: a CSI volume attached at the device is FAILED_PRECONDITION naming it and its PV", async () => {
    const { api, cloud, node } = world();
    const pv = await api.volumes.create({ zone: node.zone, sizeGiB: 4, type: 'gp3', tags: { CSIVolumeName: 'pvc-other' } });
    await api.attachments.attach(pv.id, node.id, '/dev/xvdba');
    const req = publishReq(node.id, { volumeId: 'local-ebs://dev/xvdba' });
    await expect(controllerPublishVolume(strictDeps({ config: config(true), cloud }), req, ctx)).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining(`the EBS volume at /dev/xvdba on instance ${node.id} is ${pv.id}, CSI volume pvc-other`) as string,
    });
  });

  it('refuses a volume EC2 is detaching from the device: FAILED_PRECONDITION naming it', () => {
    const { node, local } = world();
    const detaching = { ...node, blockDevices: node.blockDevices.map((b) => (b.volumeId === local ? { ...b, state: 'detaching' } : b)) };
    expect(() => nodeLocalVolumeOn(detaching, node.id, HANDLE)).toThrow(
      expect.objectContaining({
        kind: 'FailedPrecondition',
        message: expect.stringContaining(`EBS volume ${local} at /dev/xvdbz on instance ${node.id} is detaching`) as string,
      }),
    );
  });
});

describe('the other controller RPCs on a node-local handle', () => {
  it('ControllerUnpublishVolume never detaches: OK without touching EC2 or the queue, feature on or off', async () => {
    const { api, node, local, calls } = world();
    for (const on of [true, false]) {
      await expect(controllerUnpublishVolume(strictDeps({ config: config(on) }), { volumeId: HANDLE, nodeId: node.id, secrets: {} }, ctx)).resolves.toEqual({});
      await expect(controllerUnpublishVolume(strictDeps({ config: config(on) }), { volumeId: HANDLE, nodeId: '', secrets: {} }, ctx)).resolves.toEqual({});
    }
    expect(calls).toEqual([]);
    expect((await api.volumes.get([local])).get(local)).toMatchObject({ state: 'in-use', attachments: [{ instanceId: node.id, state: 'attached' }] });
  });

  it('DeleteVolume never deletes an EC2 volume: OK without touching EC2 or the queue', async () => {
    const { api, local, calls } = world();
    await expect(deleteVolume(strictDeps({}), { volumeId: HANDLE, secrets: {} }, ctx)).resolves.toEqual({});
    expect(calls).toEqual([]);
    expect((await api.volumes.get([local])).get(local)?.state).toBe('in-use');
  });

  it('ControllerExpandVolume, ControllerModifyVolume, CreateSnapshot, group snapshots and clones are INVALID_ARGUMENT saying why', async () => {
    const deps = strictDeps({});
    const why = (what: string) => ({
      kind: 'InvalidArgument',
      message: expect.stringMatching(new RegExp(`local-ebs://dev/xvdbz is a node-local volume .*; node-local volumes cannot be ${what}$`)) as string,
    });
    await expect(
      controllerExpandVolume(deps, { volumeId: HANDLE, capacityRange: { requiredBytes: 1, limitBytes: 0 }, secrets: {}, volumeCapability: undefined }, ctx),
    ).rejects.toMatchObject(why('expanded'));
    await expect(controllerModifyVolume(deps, { volumeId: HANDLE, mutableParameters: { iops: '4000' }, secrets: {} }, ctx)).rejects.toMatchObject(
      why('modified'),
    );
    await expect(
      createSnapshot(deps, { name: 'snap-1', sourceVolumeId: HANDLE, parameters: {}, secrets: {}, accessibilityRequirements: undefined }, ctx),
    ).rejects.toMatchObject(why('snapshotted'));
    await expect(createVolumeGroupSnapshot(deps, { name: 'g-1', sourceVolumeIds: [HANDLE], parameters: {}, secrets: {} }, ctx)).rejects.toMatchObject(
      why('snapshotted'),
    );
    expect(() => contentSourceOf({ volume: { volumeId: HANDLE } })).toThrow(expect.objectContaining(why('cloned')));
  });

  it('ValidateVolumeCapabilities confirms what a node-local volume serves without asking EC2 (as aws-ebs-csi-driver), and nothing while the feature is off', async () => {
    const { calls } = world();
    const req = (caps: VolumeCapability[]) => ({
      volumeId: HANDLE,
      volumeCapabilities: caps,
      volumeContext: {},
      parameters: {},
      mutableParameters: {},
      secrets: {},
    });
    const rwx = [mountCap(Mode.MULTI_NODE_MULTI_WRITER), blockCap()];
    const on = await validateVolumeCapabilities(strictDeps({ config: config(true) }), req(rwx));
    expect(on.confirmed?.volumeCapabilities).toEqual(rwx);
    const rox = await validateVolumeCapabilities(strictDeps({ config: config(true) }), req([mountCap(Mode.MULTI_NODE_READER_ONLY)]));
    expect(rox).toMatchObject({ confirmed: undefined, message: expect.stringContaining('MULTI_NODE_READER_ONLY') as string });
    const off = await validateVolumeCapabilities(strictDeps({ config: config(false) }), req(rwx));
    expect(off).toMatchObject({ confirmed: undefined, message: expect.stringContaining('node-local volumes are not enabled') as string });
    await expect(validateVolumeCapabilities(strictDeps({ config: config(true) }), { ...req(rwx), volumeId: 'local-ebs://' })).rejects.toMatchObject({
      kind: 'InvalidArgument',
    });
    expect(calls).toEqual([]);
  });

  it('ControllerGetVolume is NOT_FOUND saying the handle is no one volume (aws-ebs-csi-driver has no ControllerGetVolume)', async () => {
    await expect(controllerGetVolume(strictDeps({}), { volumeId: HANDLE }, ctx)).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining('is node-local: a different pre-attached EBS volume on each node') as string,
    });
  });
});
