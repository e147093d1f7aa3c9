import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DetachVolumeCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { callUnary, VolumeCapability_AccessMode_Mode as Mode, type ControllerPublishVolumeRequest, type VolumeCapability } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNitro, type NitroHost } from '../../../test/nitro/emulator.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { codeOf } from '../../../test/support/csi.js';
import { ec2Of, freshRedis, runInstance, uniqueCluster, volumeById } from '../../../test/support/ec2.js';
import { startTestAgent, type TestAgent } from '../../../test/support/node-agent.js';
import { createFakeHost, mountsUnder, type FakeHost } from '../../../test/support/nvme.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

/**
 * Node-local volumes end to end on the stack: an instance launched (RunInstances) with an extra EBS volume mapped at
 * /dev/xvdbz, the real controller with ENABLE_NODE_LOCAL_VOLUMES=true on LocalStack, and the emulated Nitro host of
 * that instance presenting the mapped volume as an NVMe device with its serial, staged and published by the node agent.
 */
const HANDLE = 'local-ebs://dev/xvdbz';
const rwx: VolumeCapability = { accessMode: { mode: Mode.MULTI_NODE_MULTI_WRITER }, mount: { fsType: 'xfs', mountFlags: [], volumeMountGroup: '' } };

let stack: Stack;
let ec2: EC2Client;
let ctl: ControllerProcess;
let nodeId: string;
let instance: Instance;
/** The EBS volume EC2 mapped at /dev/xvdbz when it launched the instance. */
let mapped: string;

const describeInstance = async (id: string): Promise<Instance> =>
  (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
const publishReq = (over: Partial<ControllerPublishVolumeRequest> = {}): ControllerPublishVolumeRequest => ({
  volumeId: HANDLE,
  nodeId,
  volumeCapability: rwx,
  readonly: false,
  secrets: {},
  volumeContext: {},
  ...over,
});
const publish = (over: Partial<ControllerPublishVolumeRequest> = {}) =>
  callUnary(ctl.controller, 'controllerPublishVolume', publishReq(over), { timeoutMs: 30_000 });

beforeAll(async () => {
  stack = requireStack();
  ec2 = ec2Of(stack);
  nodeId = await runInstance(ec2, stack.zone, stack.instanceType, [
    { DeviceName: '/dev/xvdbz', Ebs: { VolumeSize: 2, VolumeType: 'gp3', DeleteOnTermination: true } },
  ]);
  instance = await describeInstance(nodeId);
  mapped = instance.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/xvdbz')!.Ebs!.VolumeId!;
  ctl = await startController({
    ...testControllerEnv({
      redisUrl: await freshRedis(stack.redisUrl, 4),
      region: stack.region,
      zone: stack.zone,
      ec2Endpoint: stack.ec2Endpoint,
      cluster: uniqueCluster('local'),
    }),
    ENABLE_NODE_LOCAL_VOLUMES: 'true',
  });
});

afterAll(async () => {
  await ctl?.stop();
  ec2?.destroy();
});

async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the controller on LocalStack, node-local volumes on', () => {
  // First: the controller caches the instance briefly once it has published on it.
  it("refuses a handle whose device holds another PV's CSI volume: FAILED_PRECONDITION naming it", async () => {
    const made = await ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: stack.zone,
        Size: 1,
        VolumeType: 'gp3',
        TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'CSIVolumeName', Value: 'pvc-other' }] }],
      }),
    );
    const id = made.VolumeId!;
    try {
      await until(`${id} available`, async () => (await volumeById(ec2, id))?.State === 'available');
      await ec2.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: nodeId, Device: '/dev/xvdbb' }));
      await until(`${id} attached`, async () => (await volumeById(ec2, id))?.Attachments?.[0]?.State === 'attached');
      expect(await codeOf(publish({ volumeId: 'local-ebs://dev/xvdbb' }))).toMatchObject({
        code: status.FAILED_PRECONDITION,
        details: expect.stringContaining(`is ${id}, CSI volume pvc-other`) as string,
      });
    } finally {
      await ec2.send(new DetachVolumeCommand({ VolumeId: id, InstanceId: nodeId }));
      await until(`${id} detached`, async () => ((await volumeById(ec2, id))?.Attachments ?? []).length === 0);
      await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
    }
  });

  it('publishes local-ebs://dev/xvdbz as the device and the volume EC2 mapped there at launch; unpublish and delete leave it attached', async () => {
    const res = await publish();
    expect(res.publishContext).toEqual({ devicePath: '/dev/xvdbz', volumeID: mapped });
    await callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId: HANDLE, nodeId, secrets: {} });
    await callUnary(ctl.controller, 'deleteVolume', { volumeId: HANDLE, secrets: {} });
    expect(await volumeById(ec2, mapped)).toMatchObject({ State: 'in-use', Attachments: [{ InstanceId: nodeId, Device: '/dev/xvdbz', State: 'attached' }] });
    expect((await describeInstance(nodeId)).BlockDeviceMappings?.find((m) => m.DeviceName === '/dev/xvdbz')?.Ebs?.VolumeId).toBe(mapped);
  });

  it('refuses the root device (INVALID_ARGUMENT) and a device with nothing mapped (NOT_FOUND), naming device and instance', async () => {
    const root = instance.RootDeviceName!;
    expect(await codeOf(publish({ volumeId: `local-ebs://${root.slice(1)}` }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: `volume_id local-ebs://${root.slice(1)}: ${root} is the root device of instance ${nodeId}; the root device cannot be a node-local volume`,
    });
    const missing = await codeOf(publish({ volumeId: 'local-ebs://dev/xvdbq' }));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(missing.details).toContain(`no EBS volume is mapped at /dev/xvdbq on instance ${nodeId}`);
  });

  it('refuses to expand, modify or snapshot it: INVALID_ARGUMENT saying why', async () => {
    const expand = await codeOf(
      callUnary(ctl.controller, 'controllerExpandVolume', {
        volumeId: HANDLE,
        capacityRange: { requiredBytes: 4 * 1024 ** 3, limitBytes: 0 },
        secrets: {},
        volumeCapability: rwx,
      }),
    );
    expect(expand).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('node-local volumes cannot be expanded') as string });
    const modify = await codeOf(callUnary(ctl.controller, 'controllerModifyVolume', { volumeId: HANDLE, mutableParameters: { iops: '4000' }, secrets: {} }));
    expect(modify).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('node-local volumes cannot be modified') as string });
    const snap = await codeOf(
      callUnary(ctl.controller, 'createSnapshot', {
        name: `snap-${nodeId}`,
        sourceVolumeId: HANDLE,
        parameters: {},
        secrets: {},
        accessibilityRequirements: undefined,
      }),
    );
    expect(snap).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('node-local volumes cannot be snapshotted') as string });
    expect((await volumeById(ec2, mapped))?.Size).toBe(2);
  });
});

describe('on the emulated Nitro host of that instance', () => {
  let host: FakeHost;
  let nitro: NitroHost;
  let agent: TestAgent;
  beforeAll(async () => {
    host = await createFakeHost();
    nitro = await startNitro({ ec2, instanceId: nodeId, host, dataDir: join(host.root, 'volumes'), pollMs: 100 });
    agent = await startTestAgent(host, {}, { nodeId, zone: stack.zone, instanceType: stack.instanceType, maxVolumesPerNode: 25 });
  });
  afterAll(async () => {
    await agent?.close();
    await nitro?.stop({ purge: true });
    await host?.cleanup();
  });

  it('presents the volume mapped at launch as an NVMe device with its serial, linked at /dev/xvdbz', async () => {
    await nitro.sync();
    const dev = nitro.attached().get(mapped);
    expect(dev).toBeDefined();
    expect((await readFile(join(host.sysRoot, 'block', dev!.device.name, 'device', 'serial'), 'utf8')).trim()).toBe(mapped.replace('vol-', 'vol'));
    expect(dev!.attachLink).toBe(join(host.devRoot, 'xvdbz'));
  });

  it('stages and publishes it through the node agent from what ControllerPublish answers: a file written there is on that volume', async () => {
    const { publishContext } = await publish();
    const key = 'c0ffee0123456789';
    const staging = join(host.kubeletRoot, 'plugins', 'kubernetes.io', 'csi', 'ebs.csi.plinth.dev', key, 'globalmount');
    const target = join(host.kubeletRoot, 'pods', 'pod-1', 'volumes', 'kubernetes.io~csi', 'node-local-cache-pv', 'mount');
    const common = { volumeId: HANDLE, publishContext, volumeCapability: rwx, secrets: {}, volumeContext: {} };
    await agent.api.stage({ ...common, stagingTargetPath: staging });
    await agent.api.publish({ ...common, stagingTargetPath: staging, targetPath: target, readonly: false });

    // The staging mount is the device EC2's mapped volume is presented as (a loop device behind its backing file).
    const loop = nitro.attached().get(mapped)!.device.loop;
    const mountinfo = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === staging);
    expect(mountinfo?.split(' ')[2]).toBe(loop.majMin);
    await writeFile(join(target, 'cache.txt'), 'node-local bytes');

    await agent.api.unpublish({ volumeId: HANDLE, targetPath: target });
    await agent.api.unstage({ volumeId: HANDLE, stagingTargetPath: staging });
    expect(await mountsUnder(join(host.kubeletRoot, 'plugins'))).toEqual([]);

    // Staged again, the filesystem is kept (not reformatted) and the file is there.
    await agent.api.stage({ ...common, stagingTargetPath: staging });
    await agent.api.publish({ ...common, stagingTargetPath: staging, targetPath: target, readonly: false });
    expect(await readFile(join(target, 'cache.txt'), 'utf8')).toBe('node-local bytes');
    await agent.api.unpublish({ volumeId: HANDLE, targetPath: target });
    await agent.api.unstage({ volumeId: HANDLE, stagingTargetPath: staging });
    await callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId: HANDLE, nodeId, secrets: {} });
    expect((await volumeById(ec2, mapped))?.Attachments?.[0]).toMatchObject({ InstanceId: nodeId, State: 'attached' });
  });

  it('refuses to stage without the volume from publish_context: the device is left untouched', async () => {
    const staging = join(host.kubeletRoot, 'plugins', 'kubernetes.io', 'csi', 'ebs.csi.plinth.dev', 'nopublish', 'globalmount');
    const err = await codeOf(
      agent.api.stage({
        volumeId: HANDLE,
        publishContext: { devicePath: '/dev/xvdbz' },
        volumeCapability: rwx,
        secrets: {},
        volumeContext: {},
        stagingTargetPath: staging,
      }),
    );
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('publish_context.volumeID is required') as string });
  });
});
