import { CreateVolumeCommand, DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import { status } from '@grpc/grpc-js';
import { TAG_CLUSTER } from '@plinth/cloud';
import { callUnary, ControllerServiceCapability_RPC_Type as Rpc, VolumeHealthErrorType, type ControllerGetVolumeResponse } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, runInstance, uniqueCluster } from '../../../test/support/ec2.js';
import { codeOf, createReq, GiB, mountCap } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let cluster: string;
let env: Record<string, string>;
const created: string[] = [];

const get = (c: ControllerProcess, volumeId: string): Promise<ControllerGetVolumeResponse> => callUnary(c.controller, 'controllerGetVolume', { volumeId });

async function createVolume(name: string, sizeGiB = 2): Promise<string> {
  const res = await callUnary(ctl.controller, 'createVolume', createReq(name, { capacityRange: { requiredBytes: sizeGiB * GiB, limitBytes: 0 } }), {
    timeoutMs: 60_000,
  });
  created.push(res.volume!.volumeId);
  return res.volume!.volumeId;
}

beforeAll(async () => {
  stack = requireStack();
  // LocalStack has no DescribeVolumeStatus: the proxy answers it as EC2 would (`ok` unless a test says otherwise).
  proxy = await startFaultProxy(stack.ec2Endpoint, { volumeStatus: {} });
  cluster = uniqueCluster('getvol');
  env = testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 15), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster });
  ctl = await startController(env);
});

afterAll(async () => {
  await ctl?.stop();
  await proxy?.close();
  const ec2 = ec2Of(stack);
  for (const id of created) await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
});

describe('ControllerGetVolume', () => {
  it('is advertised, with volume condition', async () => {
    const caps = (await callUnary(ctl.controller, 'controllerGetCapabilities', {})).capabilities.map((c) => c.rpc?.type);
    expect(caps).toEqual(expect.arrayContaining([Rpc.GET_VOLUME, Rpc.VOLUME_CONDITION]));
  });

  it('describes a healthy volume: size, zone, no nodes, a normal condition', async () => {
    const volumeId = await createVolume(`get-${cluster}-ok`);
    const res = await get(ctl, volumeId);
    expect(res.volume).toMatchObject({ volumeId, capacityBytes: 2 * GiB, accessibleTopology: [{ segments: { 'topology.kubernetes.io/zone': stack.zone } }] });
    expect(res.status?.publishedNodeIds).toEqual([]);
    expect(res.status?.volumeCondition).toEqual({ abnormal: false, message: `${volumeId} is available; EC2 status checks ok` });
  });

  it('lists the node a volume is published on', async () => {
    const volumeId = await createVolume(`get-${cluster}-pub`);
    const node = await runInstance(ec2Of(stack), stack.zone);
    await callUnary(
      ctl.controller,
      'controllerPublishVolume',
      { volumeId, nodeId: node, volumeCapability: mountCap, readonly: false, secrets: {}, volumeContext: {} },
      { timeoutMs: 60_000 },
    );
    try {
      const res = await get(ctl, volumeId);
      expect(res.status?.publishedNodeIds).toEqual([node]);
      expect(res.status?.volumeCondition?.message).toContain('in-use');
    } finally {
      await callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId, nodeId: node, secrets: {} }, { timeoutMs: 60_000 });
    }
    expect((await get(ctl, volumeId)).status?.publishedNodeIds).toEqual([]);
  });

  it('reports abnormal when EC2 disabled I/O, when performance is degraded, and in the error state', async () => {
    const volumeId = await createVolume(`get-${cluster}-sick`);
    try {
      proxy.configure({
        volumeStatus: {
          [volumeId]: {
            status: 'impaired',
            ioEnabled: 'failed',
            event: { type: 'potential-data-inconsistency', description: 'I/O disabled: the volume may be inconsistent' },
            action: { code: 'enable-volume-io', description: 'Enable volume I/O' },
          },
        },
      });
      const impaired = (await get(ctl, volumeId)).status?.volumeCondition;
      expect(impaired?.abnormal).toBe(true);
      expect(impaired?.message).toContain('impaired');
      expect(impaired?.message).toContain('io-enabled failed');
      expect(impaired?.message).toContain('potential-data-inconsistency');
      expect(impaired?.message).toContain('enable-volume-io');

      proxy.configure({ volumeStatus: { [volumeId]: { status: 'warning', ioPerformance: 'degraded' } } });
      const slow = (await get(ctl, volumeId)).status?.volumeCondition;
      expect(slow?.abnormal).toBe(true);
      expect(slow?.message).toContain('io-performance degraded');

      proxy.configure({ volumeStatus: {}, volumeState: { [volumeId]: 'error' } });
      const broken = (await get(ctl, volumeId)).status?.volumeCondition;
      expect(broken?.abnormal).toBe(true);
      expect(broken?.message).toContain('error state');

      proxy.configure({ volumeState: {} });
      expect((await get(ctl, volumeId)).status?.volumeCondition?.abnormal).toBe(false);
    } finally {
      proxy.configure({ volumeStatus: {}, volumeState: {} });
    }
  });

  it('answers NOT_FOUND for a volume that does not exist, no longer exists or cannot exist, INVALID_ARGUMENT for none', async () => {
    const unknown = await codeOf(get(ctl, 'vol-0123456789abcdef0'));
    expect(unknown).toMatchObject({ code: status.NOT_FOUND, details: expect.stringContaining('vol-0123456789abcdef0') as unknown });
    expect((await codeOf(get(ctl, 'not-a-volume'))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(get(ctl, ''))).code).toBe(status.INVALID_ARGUMENT);

    const volumeId = await createVolume(`get-${cluster}-gone`);
    await callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} });
    expect((await codeOf(get(ctl, volumeId))).code).toBe(status.NOT_FOUND);
  });

  it('describes a volume by id even when another cluster made it (a statically provisioned PV)', async () => {
    const other = await ec2Of(stack).send(
      new CreateVolumeCommand({
        AvailabilityZone: stack.zone,
        Size: 3,
        TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: TAG_CLUSTER, Value: `${cluster}-other` }] }],
      }),
    );
    created.push(other.VolumeId!);
    expect((await get(ctl, other.VolumeId!)).volume?.capacityBytes).toBe(3 * GiB);
  });
});

describe('ControllerGetVolumeHealth and ControllerListVolumeHealth (CSI 1.13)', () => {
  const health = (volumeId: string) => callUnary(ctl.controller, 'controllerGetVolumeHealth', { volumeId, secrets: {} });
  const list = (maxEntries = 0, startingToken = '') => callUnary(ctl.controller, 'controllerListVolumeHealth', { maxEntries, startingToken, secrets: {} });

  it('are advertised, beside the VOLUME_CONDITION older sidecars ask for', async () => {
    const caps = (await callUnary(ctl.controller, 'controllerGetCapabilities', {})).capabilities.map((c) => c.rpc?.type);
    expect(caps).toEqual(expect.arrayContaining([Rpc.GET_VOLUME_HEALTH, Rpc.LIST_VOLUME_HEALTH, Rpc.VOLUME_CONDITION]));
  });

  it('report the impaired and degraded volumes EC2 reports (the fault proxy answering DescribeVolumeStatus), and nothing once healed', async () => {
    const sick = await createVolume(`health-${cluster}-sick`);
    const slow = await createVolume(`health-${cluster}-slow`);
    const well = await createVolume(`health-${cluster}-well`);
    expect(await health(well)).toEqual({ volumeHealth: { volumeId: well, healthStatuses: [] } });
    try {
      proxy.configure({
        volumeStatus: {
          [sick]: {
            status: 'impaired',
            ioEnabled: 'failed',
            event: { type: 'potential-data-inconsistency', description: 'I/O disabled: the volume may be inconsistent' },
            action: { code: 'enable-volume-io', description: 'Enable volume I/O' },
          },
          [slow]: { status: 'warning', ioPerformance: 'degraded' },
        },
      });
      const h = (await health(sick)).volumeHealth!;
      expect(h.healthStatuses).toEqual([
        { status: VolumeHealthErrorType.INACCESSIBLE, reason: 'IoDisabled', message: expect.stringContaining('enable-volume-io') as string },
      ]);
      expect((await health(slow)).volumeHealth!.healthStatuses.map((e) => [e.status, e.reason])).toEqual([
        [VolumeHealthErrorType.DEGRADED, 'IoPerformanceDegraded'],
      ]);

      const all = await list();
      expect(all.entries.map((e) => e.volumeId)).toEqual([sick, slow].sort());
      const first = await list(1);
      expect(first.entries).toHaveLength(1);
      const second = await list(1, first.nextToken);
      expect([...first.entries, ...second.entries].map((e) => e.volumeId)).toEqual([sick, slow].sort());
      expect(second.nextToken).toBe('');
      expect((await codeOf(list(0, 'not-a-token'))).code).toBe(status.ABORTED);

      proxy.configure({ volumeStatus: {}, volumeState: { [well]: 'error' } });
      expect((await health(well)).volumeHealth!.healthStatuses.map((e) => [e.status, e.reason])).toEqual([[VolumeHealthErrorType.DATA_LOSS, 'VolumeError']]);
    } finally {
      proxy.configure({ volumeStatus: {}, volumeState: {} });
    }
    expect((await list()).entries).toEqual([]);
  });

  it('answer NOT_FOUND for an unknown volume and INVALID_ARGUMENT without a volume id', async () => {
    expect(await codeOf(health('vol-0123456789abcdef0'))).toMatchObject({
      code: status.NOT_FOUND,
      details: expect.stringContaining('vol-0123456789abcdef0') as unknown,
    });
    expect(await codeOf(health(''))).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'volume_id is required' });
  });
});

describe('ControllerGetVolume where EC2 has no volume status checks (LocalStack as it is)', () => {
  it('reports the condition from the volume state, and asks for status checks once, not on every call', async () => {
    const bare = await startFaultProxy(stack.ec2Endpoint);
    const plain = await startController({ ...env, EC2_ENDPOINT: bare.endpoint });
    try {
      const volumeId = created[0]!;
      for (let i = 0; i < 3; i++) {
        const res = await get(plain, volumeId);
        expect(res.status?.volumeCondition).toEqual({ abnormal: false, message: `${volumeId} is available (this EC2 endpoint has no volume status checks)` });
      }
      // The 501 is not retried (it would spend the retry budget), and the answer is remembered.
      expect(bare.calls.get('DescribeVolumeStatus')).toBe(1);
      bare.configure({ volumeState: { [volumeId]: 'error' } });
      expect((await get(plain, volumeId)).status?.volumeCondition?.abnormal).toBe(true);
    } finally {
      await plain.stop();
      await bare.close();
    }
  });
});
