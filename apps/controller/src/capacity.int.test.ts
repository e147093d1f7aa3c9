import { setTimeout as sleep } from 'node:timers/promises';
import { CreateVolumeCommand, DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import { status } from '@grpc/grpc-js';
import { TAG_CLUSTER } from '@plinth/cloud';
import {
  callUnary,
  ControllerServiceCapability_RPC_Type as Rpc,
  VolumeCapability_AccessMode_Mode as Mode,
  type GetCapacityRequest,
  type GetCapacityResponse,
} from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, uniqueCluster } from '../../../test/support/ec2.js';
import { codeOf, GiB, mountCap } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

const TTL_MS = 1500;
const ZONE = 'topology.kubernetes.io/zone';
const LEGACY = 'topology.ebs.csi.aws.com/zone';

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let cluster: string;
let otherZone: string;
const created: string[] = [];

function capacity(parameters: Record<string, string> = {}, zone?: string, over: Partial<GetCapacityRequest> = {}): Promise<GetCapacityResponse> {
  return callUnary(ctl.controller, 'getCapacity', {
    volumeCapabilities: [],
    parameters,
    accessibleTopology: zone ? { segments: { [ZONE]: zone } } : undefined,
    ...over,
  });
}

const gib = (r: GetCapacityResponse) => ({
  available: r.availableCapacity / GiB,
  max: (r.maximumVolumeSize ?? -GiB) / GiB,
  min: (r.minimumVolumeSize ?? -GiB) / GiB,
});

beforeAll(async () => {
  stack = requireStack();
  proxy = await startFaultProxy(stack.ec2Endpoint);
  cluster = uniqueCluster('capacity');
  otherZone = stack.zone.endsWith('a') ? stack.zone.replace(/a$/, 'b') : stack.zone.replace(/.$/, 'a');
  ctl = await startController({
    ...testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 15), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
    CAPACITY_QUOTAS_GIB: 'gp3=100,io2=50,st1=100',
    CAPACITY_CACHE_TTL_MS: String(TTL_MS),
  });
});

afterAll(async () => {
  await ctl?.stop();
  await proxy?.close();
  const ec2 = ec2Of(stack);
  for (const id of created) await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
});

describe('GetCapacity', () => {
  it('is advertised', async () => {
    const caps = (await callUnary(ctl.controller, 'controllerGetCapabilities', {})).capabilities.map((c) => c.rpc?.type);
    expect(caps).toContain(Rpc.GET_CAPACITY);
  });

  it('is quota − provisioned per zone and type, and shrinks after a CreateVolume (the quota is regional: every zone)', async () => {
    expect(gib(await capacity())).toEqual({ available: 100, max: 100, min: 1 });
    expect(gib(await capacity({ type: 'gp3' }, stack.zone))).toEqual({ available: 100, max: 100, min: 1 });

    const res = await callUnary(
      ctl.controller,
      'createVolume',
      {
        name: `cap-${cluster}`,
        capacityRange: { requiredBytes: 10 * GiB, limitBytes: 0 },
        volumeCapabilities: [mountCap],
        parameters: { type: 'gp3' },
        secrets: {},
        volumeContentSource: undefined,
        accessibilityRequirements: { requisite: [{ segments: { [ZONE]: stack.zone } }], preferred: [] },
        mutableParameters: {},
      },
      { timeoutMs: 60_000 },
    );
    created.push(res.volume!.volumeId);
    // Another cluster's volume takes nothing from this cluster's figures.
    const foreign = await ec2Of(stack).send(
      new CreateVolumeCommand({
        AvailabilityZone: stack.zone,
        Size: 30,
        VolumeType: 'gp3',
        TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: TAG_CLUSTER, Value: `${cluster}-other` }] }],
      }),
    );
    created.push(foreign.VolumeId!);

    await sleep(TTL_MS + 200);
    expect(gib(await capacity({ type: 'gp3' }, stack.zone))).toEqual({ available: 90, max: 90, min: 1 });
    expect(gib(await capacity({ type: 'gp3' }, otherZone))).toEqual({ available: 90, max: 90, min: 1 });
    expect(gib(await capacity({ type: 'io2', iops: '1000' }, stack.zone))).toEqual({ available: 50, max: 50, min: 4 });
  });

  it('reports the smallest and largest volume per type, and for the IOPS asked for', async () => {
    // Default quotas where none is configured: gp2 50 TiB, capped by gp2's 16 TiB volume limit.
    expect(gib(await capacity({ type: 'gp2' }))).toEqual({ available: 51200, max: 16384, min: 1 });
    expect(gib(await capacity({ type: 'standard' }))).toEqual({ available: 51200, max: 1024, min: 1 });
    // st1's 125 GiB minimum does not fit in a 100 GiB quota: room, but no volume fits.
    expect(gib(await capacity({ type: 'st1' }))).toEqual({ available: 100, max: 0, min: 125 });
    // IOPS above what a size allows are capped to it, as aws-ebs-csi-driver caps them (docs/parameters.md), so
    // 16000 gp3 IOPS fit the smallest gp3 volume.
    expect(gib(await capacity({ type: 'gp3', iops: '16000' }))).toMatchObject({ min: 1 });
    expect(gib(await capacity({ type: 'io2', iops: '16000' }))).toEqual({ available: 50, max: 50, min: 4 });
  });

  it("accepts what external-provisioner sends: the class's parameters with Kubernetes' own keys, a placeholder capability, both zone keys", async () => {
    const res = await capacity(
      { type: 'gp3', 'csi.storage.k8s.io/provisioner-secret-name': 's', 'csi.storage.k8s.io/fstype': 'xfs', tagSpecification_1: 'team=storage' },
      undefined,
      {
        volumeCapabilities: [{ accessMode: { mode: Mode.UNKNOWN }, mount: { fsType: '', mountFlags: [], volumeMountGroup: '' } }],
        accessibleTopology: { segments: { [ZONE]: otherZone, [LEGACY]: otherZone } },
      },
    );
    expect(gib(res)).toEqual({ available: 90, max: 90, min: 1 });
    expect(gib(await capacity({ type: 'gp3' }, undefined, { accessibleTopology: { segments: { [LEGACY]: stack.zone } } })).available).toBe(90);
  });

  it('answers INVALID_ARGUMENT, naming the problem, for parameters, capabilities or topology CreateVolume would refuse', async () => {
    const cases: [Promise<unknown>, string][] = [
      [capacity({ type: 'gp9' }), 'gp9'],
      [capacity({ fancy: '1' }), 'fancy'],
      [capacity({ type: 'io2' }), 'iops'],
      [capacity({ type: 'gp3', iops: 'many' }), 'iops'],
      [capacity({}, `${stack.region}z`), `${stack.region}z`],
      [capacity({}, undefined, { accessibleTopology: { segments: { 'kubernetes.io/hostname': 'n1' } } }), ZONE],
      [capacity({}, undefined, { accessibleTopology: { segments: { [ZONE]: stack.zone, [LEGACY]: otherZone } } }), 'disagree'],
      [capacity({ type: 'gp3' }, undefined, { volumeCapabilities: [{ accessMode: { mode: Mode.MULTI_NODE_MULTI_WRITER }, block: {} }] }), 'io2'],
    ];
    for (const [call, text] of cases) {
      const got = await codeOf(call);
      expect({ code: got.code, named: got.details.includes(text) }, got.details).toEqual({ code: status.INVALID_ARGUMENT, named: true });
    }
  });

  it('lists volumes once per cache period however many classes and zones external-provisioner polls', async () => {
    await sleep(TTL_MS + 200);
    proxy.reset();
    const poll = () =>
      Promise.all(['gp3', 'gp2', 'st1'].flatMap((type) => [stack.zone, otherZone, `${stack.region}c`].map((zone) => capacity({ type }, zone))));
    const first = await poll();
    expect(first.map((r) => r.availableCapacity / GiB)).toEqual([90, 90, 90, 51200, 51200, 51200, 100, 100, 100]);
    for (let i = 0; i < 5; i++) await poll();
    expect(proxy.calls.get('DescribeVolumes')).toBe(1);
    // Zones hardly change: asked once at the start, not again within the hour.
    expect(proxy.calls.get('DescribeAvailabilityZones') ?? 0).toBe(0);
    await sleep(TTL_MS + 200);
    await poll();
    expect(proxy.calls.get('DescribeVolumes')).toBe(2);
    expect(proxy.total()).toBe(2);
  });
});
