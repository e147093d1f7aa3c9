import { DescribeVolumesModificationsCommand, EC2Client, ModifyVolumeCommand } from '@aws-sdk/client-ec2';
import { status } from '@grpc/grpc-js';
import { callUnary, ControllerServiceCapability_RPC_Type as Rpc, type CreateVolumeRequest } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, uniqueCluster, volumeById } from '../../../test/support/ec2.js';
import { codeOf, GiB, mountCap } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

const WINDOW_MS = 1000;

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let env: Record<string, string>;
/** Successful EC2 answers by action, as the proxy saw them, with their request parameters. */
const answered: { action: string; params: URLSearchParams }[] = [];
const created: string[] = [];

const sent = (action: string, volumeId: string): URLSearchParams[] =>
  answered.filter((a) => a.action === action && (a.params.get('VolumeId') === volumeId || a.params.get('ResourceId.1') === volumeId)).map((a) => a.params);

function createReq(name: string, over: Partial<CreateVolumeRequest> = {}): CreateVolumeRequest {
  return {
    name,
    capacityRange: { requiredBytes: 10 * GiB, limitBytes: 0 },
    volumeCapabilities: [mountCap],
    parameters: { type: 'gp3' },
    secrets: {},
    volumeContentSource: undefined,
    accessibilityRequirements: undefined,
    mutableParameters: {},
    ...over,
  };
}

async function createVolume(over: Partial<CreateVolumeRequest> = {}, on = ctl): Promise<string> {
  const res = await callUnary(on.controller, 'createVolume', createReq(`modify-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, over));
  const id = res.volume!.volumeId;
  created.push(id);
  return id;
}

const modify = (volumeId: string, mutableParameters: Record<string, string>, on = ctl) =>
  callUnary(on.controller, 'controllerModifyVolume', { volumeId, mutableParameters, secrets: {} }, { timeoutMs: 60_000 });
const expand = (volumeId: string, requiredBytes: number, limitBytes = 0, on = ctl) =>
  callUnary(
    on.controller,
    'controllerExpandVolume',
    { volumeId, capacityRange: { requiredBytes, limitBytes }, secrets: {}, volumeCapability: mountCap },
    { timeoutMs: 60_000 },
  );
const described = async (volumeId: string) => (await volumeById(ec2Of(stack), volumeId))!;
const tagsOf = async (volumeId: string): Promise<Record<string, string>> =>
  Object.fromEntries(((await described(volumeId)).Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

beforeAll(async () => {
  stack = requireStack();
  proxy = await startFaultProxy(stack.ec2Endpoint);
  proxy.onAnswer = (action, params, ok) => {
    if (ok) answered.push({ action, params });
  };
  env = {
    ...testControllerEnv({
      redisUrl: await freshRedis(stack.redisUrl, 15),
      region: stack.region,
      zone: stack.zone,
      ec2Endpoint: proxy.endpoint,
      cluster: uniqueCluster('modify'),
    }),
    MODIFY_COALESCE_WINDOW_MS: String(WINDOW_MS),
  };
  ctl = await startController(env);
});

afterAll(async () => {
  for (const volumeId of created) await callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} }).catch(() => undefined);
  await ctl?.stop();
  await proxy?.close();
});

describe('ControllerModifyVolume', () => {
  it('is advertised, and changes gp2 to gp3 with IOPS and throughput in one ModifyVolume; a repeat sends nothing', async () => {
    const caps = await callUnary(ctl.controller, 'controllerGetCapabilities', {});
    expect(caps.capabilities.map((c) => c.rpc?.type)).toContain(Rpc.MODIFY_VOLUME);

    const volumeId = await createVolume({ parameters: { type: 'gp2' } });
    expect(await modify(volumeId, { type: 'gp3', iops: '4000', throughput: '250' })).toEqual({});
    expect(await described(volumeId)).toMatchObject({ VolumeType: 'gp3', Iops: 4000, Throughput: 250, Size: 10 });
    expect(sent('ModifyVolume', volumeId)).toHaveLength(1);

    // Idempotent: the same class again changes nothing, and EC2 is not asked (it would count a no-op modification too).
    expect(await modify(volumeId, { Type: 'GP3', IOPS: '4000', throughput: '250' })).toEqual({});
    expect(sent('ModifyVolume', volumeId)).toHaveLength(1);

    // Only what differs is sent.
    await modify(volumeId, { type: 'gp3', iops: '5000', throughput: '250' });
    expect(await described(volumeId)).toMatchObject({ VolumeType: 'gp3', Iops: 5000, Throughput: 250 });
    const second = sent('ModifyVolume', volumeId)[1]!;
    expect([second.get('Iops'), second.get('Throughput'), second.get('VolumeType'), second.get('Size')]).toEqual(['5000', null, null, null]);
  });

  it('sets tags with CreateTags alone, never ModifyVolume, and leaves the others in place', async () => {
    const volumeId = await createVolume({ parameters: { type: 'gp3', tagSpecification_1: 'team=storage' } });
    await modify(volumeId, { tagSpecification_1: 'tier=gold', TagSpecification_2: 'team=db' });
    expect(await tagsOf(volumeId)).toMatchObject({ tier: 'gold', team: 'db', CSIVolumeName: expect.any(String) as string });
    expect(sent('ModifyVolume', volumeId)).toHaveLength(0);
    expect(sent('CreateTags', volumeId)).toHaveLength(1);
    await modify(volumeId, { tagSpecification_1: 'tier=gold' });
    expect(sent('CreateTags', volumeId)).toHaveLength(1);
  });

  it("deletes tags with DeleteTags (tagDeletion_N), fills tag templates from the resizer's metadata, and protects reserved keys", async () => {
    const volumeId = await createVolume({ parameters: { type: 'gp3', tagSpecification_1: 'location=Seattle', tagSpecification_2: 'cost-center=7' } });
    await modify(volumeId, {
      tagDeletion_1: 'location',
      tagDeletion_2: 'cost-center',
      tagSpecification_1: 'PVC-Name={{ .PVCName | toUpper }}',
      'csi.storage.k8s.io/pvc/name': 'data',
    });
    const tags = await tagsOf(volumeId);
    expect(tags).toMatchObject({ 'PVC-Name': 'DATA', 'ebs.csi.aws.com/cluster': 'true' });
    expect(tags).not.toHaveProperty('location');
    expect(tags).not.toHaveProperty('cost-center');
    expect(sent('DeleteTags', volumeId).map((p) => [p.get('Tag.1.Key'), p.get('Tag.2.Key')])).toEqual([['location', 'cost-center']]);
    const f = await codeOf(modify(volumeId, { tagDeletion_1: 'ebs.csi.aws.com/cluster' }));
    expect(f).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('tagDeletion_1') as string });
    expect(sent('ModifyVolume', volumeId)).toHaveLength(0);
  });

  it('keeps iopsPerGB × size on expansion with allowAutoIOPSIncreaseOnModify, as aws-ebs-csi-driver', async () => {
    const volumeId = await createVolume({ parameters: { type: 'io2', iopsPerGB: '50', allowAutoIOPSIncreaseOnModify: 'true' } });
    expect(await described(volumeId)).toMatchObject({ VolumeType: 'io2', Iops: 500 });
    await expand(volumeId, 20 * GiB);
    expect(sent('ModifyVolume', volumeId).map((p) => [p.get('Size'), p.get('Iops')])).toEqual([['20', '1000']]);
    expect(await described(volumeId)).toMatchObject({ Size: 20, Iops: 1000 });
  });

  it('rejects bad or unknown parameters naming them, and unknown or missing volumes, without calling ModifyVolume', async () => {
    const volumeId = await createVolume({ parameters: { type: 'gp2' } });
    const cases: [Record<string, string>, string][] = [
      [{ XXX_FakeKey: 'x' }, 'unknown mutable parameter "XXX_FakeKey"'],
      [{ encrypted: 'true' }, 'unknown mutable parameter "encrypted"'],
      [{ type: 'gp9' }, 'unknown volume type "gp9"'],
      [{ iops: '3000' }, 'parameter iops: volume type gp2 does not take an IOPS setting'],
      [{ type: 'gp3', throughput: '5000' }, 'parameter throughput: 5000 MiB/s is outside 125-2000 for gp3'],
      [{ type: 'gp3', throughput: '1000' }, 'at most 750'],
      [{ type: 'gp3', iops: '6000' }, 'parameter iops: 6000 IOPS exceeds 500 IOPS per GiB for a 10 GiB gp3 volume'],
      [{ type: 'st1' }, 'parameter type: a 10 GiB volume cannot be st1'],
      [{ tagSpecification_1: 'nonsense' }, 'parameter tagSpecification_1: expected "key=value"'],
    ];
    for (const [params, message] of cases) {
      const f = await codeOf(modify(volumeId, params));
      expect(f.code, JSON.stringify(params)).toBe(status.INVALID_ARGUMENT);
      expect(f.details).toContain(message);
    }
    expect(await codeOf(modify('', { type: 'gp3' }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'volume_id is required' });
    expect((await codeOf(modify('vol-0123456789abcdef0', { type: 'gp3' }))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(modify('non-existing-volume-id', { type: 'gp3' }))).code).toBe(status.NOT_FOUND);
    expect(sent('ModifyVolume', volumeId)).toHaveLength(0);
    expect((await described(volumeId)).VolumeType).toBe('gp2');
  });

  it('folds a resize and a modify arriving together into ONE ModifyVolume, and both calls succeed', async () => {
    const volumeId = await createVolume();
    const [grown, modified] = await Promise.all([expand(volumeId, 20 * GiB), modify(volumeId, { throughput: '300', tagSpecification_1: 'tier=gold' })]);
    expect(grown).toEqual({ capacityBytes: 20 * GiB, nodeExpansionRequired: true });
    expect(modified).toEqual({});
    const calls = sent('ModifyVolume', volumeId);
    expect(calls).toHaveLength(1);
    expect([calls[0]!.get('Size'), calls[0]!.get('Throughput')]).toEqual(['20', '300']);
    expect(await described(volumeId)).toMatchObject({ Size: 20, Throughput: 300, Iops: 3000 });
    expect(await tagsOf(volumeId)).toMatchObject({ tier: 'gold' });
  });

  it('folds them into one ModifyVolume when they reach two different controller replicas', async () => {
    const other = await startController(env);
    try {
      const volumeId = await createVolume();
      const [grown] = await Promise.all([expand(volumeId, 30 * GiB, 0, other), modify(volumeId, { iops: '6000' })]);
      expect(grown.capacityBytes).toBe(30 * GiB);
      expect(sent('ModifyVolume', volumeId)).toHaveLength(1);
      expect(await described(volumeId)).toMatchObject({ Size: 30, Iops: 6000 });
    } finally {
      await other.stop();
    }
  });

  it('refuses IOPS that even the new size cannot carry, and still grows the volume asked to grow alongside', async () => {
    const volumeId = await createVolume();
    const [grown, refused] = await Promise.all([expand(volumeId, 20 * GiB), codeOf(modify(volumeId, { iops: '20000' }))]);
    expect(grown.capacityBytes).toBe(20 * GiB);
    expect(refused).toEqual({ code: status.INVALID_ARGUMENT, details: 'parameter iops: 20000 IOPS exceeds 500 IOPS per GiB for a 20 GiB gp3 volume' });
    expect(sent('ModifyVolume', volumeId).map((p) => [p.get('Size'), p.get('Iops')])).toEqual([['20', null]]);
    expect(await described(volumeId)).toMatchObject({ Size: 20, Iops: 3000 });
  });

  it("turns EC2's modification cooldown into RESOURCE_EXHAUSTED saying when it ends, and forgets the refused change", async () => {
    proxy.configure({ modifyCooldownMs: 60_000 });
    try {
      const volumeId = await createVolume();
      await modify(volumeId, { throughput: '200' });
      const f = await codeOf(expand(volumeId, 12 * GiB));
      expect(f.code).toBe(status.RESOURCE_EXHAUSTED);
      const mods = await ec2Of(stack).send(new DescribeVolumesModificationsCommand({ VolumeIds: [volumeId] }));
      const start = mods
        .VolumesModifications!.map((m) => m.StartTime!.getTime())
        .sort()
        .at(-1)!;
      expect(f.details).toContain(`volume ${volumeId} cannot be modified again yet`);
      expect(f.details).toContain('VolumeModificationRateExceeded');
      expect(f.details).toContain(`the next one is possible from ${new Date(start + 6 * 3600_000).toISOString()}`);
      expect(f.details).not.toMatch(/\n\s+at /);
      expect((await codeOf(modify(volumeId, { throughput: '300' }))).code).toBe(status.RESOURCE_EXHAUSTED);

      // A later tag-only change does not carry the refused resize or throughput along.
      proxy.configure({ modifyCooldownMs: 0 });
      await modify(volumeId, { tagSpecification_1: 'after=cooldown' });
      expect(await described(volumeId)).toMatchObject({ Size: 10, Throughput: 200 });
    } finally {
      proxy.configure({ modifyCooldownMs: 0 });
    }
  });

  it('waits for a modification still in progress (modifying) before its own, and answers once EC2 is done modifying', async () => {
    const volumeId = await createVolume();
    const refused = () => proxy.outcomes.get('ModifyVolume')?.get('refused') ?? 0;
    const refusedBefore = refused();
    proxy.configure({ transitions: { createMs: 0, attachMs: 0, detachMs: 0, modifyMs: 2000, snapshotMs: 0 } });
    try {
      // Someone else's modification, through the same EC2 (the proxy shows it modifying for 2 s).
      const direct = new EC2Client({ region: stack.region, endpoint: proxy.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      await direct.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 11 }));
      direct.destroy();
      const t0 = Date.now();
      await modify(volumeId, { throughput: '400' });
      // It waited out the other modification (2 s) and then its own (2 s more).
      expect(Date.now() - t0).toBeGreaterThanOrEqual(3500);
      expect(refused()).toBe(refusedBefore);
      expect(await described(volumeId)).toMatchObject({ Size: 11, Throughput: 400 });
    } finally {
      proxy.configure({ transitions: false });
    }
  });
});

describe('ControllerExpandVolume through the modify path', () => {
  it('refuses to shrink (limit below the size) with OUT_OF_RANGE and keeps a larger size for a smaller request', async () => {
    const volumeId = await createVolume();
    const f = await codeOf(expand(volumeId, 0, 5 * GiB));
    expect(f.code).toBe(status.OUT_OF_RANGE);
    expect(f.details).toContain('EBS volumes cannot shrink');
    expect(await expand(volumeId, 4 * GiB)).toEqual({ capacityBytes: 10 * GiB, nodeExpansionRequired: true });
    expect(sent('ModifyVolume', volumeId)).toHaveLength(0);
    expect((await described(volumeId)).Size).toBe(10);
  });
});

describe('CreateVolume with mutable_parameters (a VolumeAttributesClass at creation)', () => {
  it('applies them over the StorageClass parameters, with no ModifyVolume', async () => {
    const volumeId = await createVolume({
      parameters: { type: 'gp3', iops: '3000', throughput: '125', tagSpecification_1: 'suite=modify' },
      mutableParameters: { throughput: '250', tagSpecification_1: 'tier=gold' },
    });
    expect(await described(volumeId)).toMatchObject({ VolumeType: 'gp3', Iops: 3000, Throughput: 250 });
    expect(await tagsOf(volumeId)).toMatchObject({ suite: 'modify', tier: 'gold' });
    expect(sent('ModifyVolume', volumeId)).toHaveLength(0);
  });

  it('rejects invalid ones with INVALID_ARGUMENT naming the key, creating nothing', async () => {
    const before = answered.filter((a) => a.action === 'CreateVolume').length;
    const f = await codeOf(
      callUnary(ctl.controller, 'createVolume', createReq(`modify-bad-${Date.now()}`, { mutableParameters: { XXX_FakeKey: 'XXX_FakeValue' } })),
    );
    expect(f).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(f.details).toContain('XXX_FakeKey');
    expect(
      (
        await codeOf(
          callUnary(
            ctl.controller,
            'createVolume',
            createReq(`modify-bad2-${Date.now()}`, { parameters: { type: 'gp2' }, mutableParameters: { throughput: '200' } }),
          ),
        )
      ).code,
    ).toBe(status.INVALID_ARGUMENT);
    expect(answered.filter((a) => a.action === 'CreateVolume').length).toBe(before);
  });
});
