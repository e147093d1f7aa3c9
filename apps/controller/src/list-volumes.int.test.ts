import { CreateVolumeCommand, DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import { status } from '@grpc/grpc-js';
import { TAG_CLUSTER } from '@plinth/cloud';
import { callUnary, ControllerServiceCapability_RPC_Type as Rpc, type ListVolumesResponse } from '@plinth/csi';
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
const created: string[] = [];

const list = (maxEntries = 0, startingToken = ''): Promise<ListVolumesResponse> => callUnary(ctl.controller, 'listVolumes', { maxEntries, startingToken });
const ids = (res: ListVolumesResponse) => res.entries.map((e) => e.volume!.volumeId);

async function createVolume(name: string): Promise<string> {
  const res = await callUnary(ctl.controller, 'createVolume', createReq(name), { timeoutMs: 60_000 });
  created.push(res.volume!.volumeId);
  return res.volume!.volumeId;
}

/** Every page of a listing, following next_token until it is empty. */
async function allPages(maxEntries: number): Promise<string[][]> {
  const pages: string[][] = [];
  let token = '';
  do {
    const res = await list(maxEntries, token);
    pages.push(ids(res));
    token = res.nextToken;
  } while (token && pages.length < 100);
  return pages;
}

beforeAll(async () => {
  stack = requireStack();
  // LocalStack has no DescribeVolumeStatus: the proxy answers it as EC2 would (`ok` unless a test says otherwise).
  proxy = await startFaultProxy(stack.ec2Endpoint, { volumeStatus: {} });
  cluster = uniqueCluster('list');
  ctl = await startController(
    testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 15), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
  );
  for (let i = 0; i < 5; i++) await createVolume(`list-${cluster}-${i}`);
});

afterAll(async () => {
  await ctl?.stop();
  await proxy?.close();
  const ec2 = ec2Of(stack);
  for (const id of created) await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
});

describe('ListVolumes', () => {
  it('is advertised, with published nodes and volume condition', async () => {
    const caps = (await callUnary(ctl.controller, 'controllerGetCapabilities', {})).capabilities.map((c) => c.rpc?.type);
    expect(caps).toEqual(expect.arrayContaining([Rpc.LIST_VOLUMES, Rpc.LIST_VOLUMES_PUBLISHED_NODES, Rpc.VOLUME_CONDITION]));
  });

  it("lists exactly this cluster's volumes, with size, zone and a normal condition", async () => {
    // Volumes of another cluster and untagged ones are not ours to list.
    const ec2 = ec2Of(stack);
    const other = await ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: stack.zone,
        Size: 1,
        TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: TAG_CLUSTER, Value: `${cluster}-other` }] }],
      }),
    );
    const untagged = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: stack.zone, Size: 1 }));
    created.push(other.VolumeId!, untagged.VolumeId!);

    const res = await list();
    expect(res.nextToken).toBe('');
    expect(ids(res).sort()).toEqual([...created.slice(0, 5)].sort());
    for (const e of res.entries) {
      expect(e.volume).toMatchObject({ capacityBytes: GiB, accessibleTopology: [{ segments: { 'topology.kubernetes.io/zone': stack.zone } }] });
      expect(e.status?.publishedNodeIds).toEqual([]);
      expect(e.status?.volumeCondition?.abnormal).toBe(false);
      expect(e.status?.volumeCondition?.message).toContain(e.volume!.volumeId);
    }
  });

  it('pages with max_entries: chained tokens, every volume once, an empty token on the last page', async () => {
    const pages = await allPages(2);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const flat = pages.flat();
    expect(new Set(flat).size).toBe(5);
    expect([...flat].sort()).toEqual([...created.slice(0, 5)].sort());
    expect(flat).toEqual([...flat].sort());
  });

  it('keeps a token valid while volumes come and go between pages: no duplicates, no misses', async () => {
    const first = await list(2);
    expect(first.entries).toHaveLength(2);
    const [a, b] = ids(first);
    // The page's own volumes go away and a new one appears before the next page is asked for.
    await callUnary(ctl.controller, 'deleteVolume', { volumeId: b!, secrets: {} });
    const fresh = await createVolume(`list-${cluster}-late`);
    const rest: string[] = [];
    let token = first.nextToken;
    while (token) {
      const res = await list(2, token);
      rest.push(...ids(res));
      token = res.nextToken;
    }
    const before = new Set(created.slice(0, 5));
    const expected = [...before].filter((id) => id !== a && id !== b);
    expect(rest.filter((id) => id !== fresh).sort()).toEqual(expected.sort());
    expect(new Set(rest).size).toBe(rest.length);
    expect(ids(await list())).not.toContain(b);
  });

  it('answers ABORTED for a token it did not issue and INVALID_ARGUMENT for a negative max_entries', async () => {
    const bad = await codeOf(list(0, 'invalid-token'));
    expect(bad.code).toBe(status.ABORTED);
    expect(bad.details).toContain('starting_token');
    const negative = await codeOf(list(-1));
    expect(negative.code).toBe(status.INVALID_ARGUMENT);
    expect(negative.details).toContain('max_entries');
  });

  it('reports the node a volume is published on, and no node after unpublish', async () => {
    const node = await runInstance(ec2Of(stack), stack.zone);
    const volumeId = ids(await list())[0]!;
    const entryOf = async () => (await list()).entries.find((e) => e.volume!.volumeId === volumeId);
    await callUnary(
      ctl.controller,
      'controllerPublishVolume',
      { volumeId, nodeId: node, volumeCapability: mountCap, readonly: false, secrets: {}, volumeContext: {} },
      { timeoutMs: 60_000 },
    );
    expect((await entryOf())?.status?.publishedNodeIds).toEqual([node]);
    await callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId, nodeId: node, secrets: {} }, { timeoutMs: 60_000 });
    expect((await entryOf())?.status?.publishedNodeIds).toEqual([]);
  });

  it('reports an impaired volume and one in the error state as abnormal', async () => {
    const [impaired, broken] = ids(await list());
    if (!impaired || !broken) throw new Error('expected at least two volumes');
    proxy.configure({
      volumeStatus: { [impaired]: { status: 'impaired', ioEnabled: 'failed', event: { type: 'potential-data-inconsistency', description: 'I/O disabled' } } },
      volumeState: { [broken]: 'error' },
    });
    try {
      const res = await list();
      const condition = (id: string) => res.entries.find((e) => e.volume!.volumeId === id)?.status?.volumeCondition;
      expect(condition(impaired)).toMatchObject({ abnormal: true });
      expect(condition(impaired)?.message).toContain('io-enabled failed');
      expect(condition(broken)).toMatchObject({ abnormal: true });
      expect(condition(broken)?.message).toContain('error state');
      const healthy = res.entries.filter((e) => e.volume!.volumeId !== impaired && e.volume!.volumeId !== broken);
      expect(healthy.length).toBeGreaterThan(0);
      for (const e of healthy) expect(e.status?.volumeCondition).toMatchObject({ abnormal: false });
    } finally {
      proxy.configure({ volumeStatus: {}, volumeState: {} });
    }
  });
});
