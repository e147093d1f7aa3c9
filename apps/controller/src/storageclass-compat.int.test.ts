/**
 * StorageClasses, VolumeAttributesClasses and VolumeSnapshotClasses written the way aws-ebs-csi-driver v1.64's docs
 * spell them (docs/parameters.md, docs/tagging.md, docs/modify-volume.md), run through the real controller on
 * LocalStack, each with the outcome aws-ebs-csi-driver gives; the request that reached EC2 is read back from the
 * recording proxy. Where Plinth deliberately differs, the case says so and why (docs/parameters.md, "different").
 */
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { status } from '@grpc/grpc-js';
import { callUnary, type CreateVolumeRequest, type CreateVolumeResponse } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { codeOf, createReq, GiB } from '../../../test/support/csi.js';
import { ec2Of, freshRedis, uniqueCluster, volumeById } from '../../../test/support/ec2.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
const answered: { action: string; params: URLSearchParams }[] = [];
const volumes: string[] = [];
const snapshots: string[] = [];

/** The tags of a recorded EC2 request (TagSpecification.1.Tag.N.Key/Value). */
function requestTags(p: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (let n = 1; p.has(`TagSpecification.1.Tag.${n}.Key`); n++)
    out[p.get(`TagSpecification.1.Tag.${n}.Key`)!] = p.get(`TagSpecification.1.Tag.${n}.Value`) ?? '';
  return out;
}
/** The CreateVolume request EC2 received for a CSI name. */
const createRequest = (name: string): URLSearchParams | undefined =>
  answered.find((a) => a.action === 'CreateVolume' && requestTags(a.params).CSIVolumeName === name)?.params;

let seq = 0;
async function create(over: Partial<CreateVolumeRequest>): Promise<{ name: string; res: CreateVolumeResponse; sent: URLSearchParams }> {
  const name = `compat-${Date.now()}-${++seq}`;
  const res = await callUnary(ctl.controller, 'createVolume', createReq(name, over), { timeoutMs: 60_000 });
  volumes.push(res.volume!.volumeId);
  const sent = createRequest(name);
  if (!sent) throw new Error(`no CreateVolume reached EC2 for ${name}`);
  return { name, res, sent };
}

const metadata = {
  'csi.storage.k8s.io/pvc/name': 'ebs-claim',
  'csi.storage.k8s.io/pvc/namespace': 'ns-prod-abcdef',
  'csi.storage.k8s.io/pv/name': 'pvc-0f1e2d3c',
};

beforeAll(async () => {
  stack = requireStack();
  proxy = await startFaultProxy(stack.ec2Endpoint);
  proxy.onAnswer = (action, params, ok) => {
    if (ok) answered.push({ action, params });
  };
  const env = testControllerEnv({
    redisUrl: await freshRedis(stack.redisUrl, 14),
    region: stack.region,
    zone: stack.zone,
    ec2Endpoint: proxy.endpoint,
    cluster: uniqueCluster('compat'),
  });
  ctl = await startController({ ...env, K8S_TAG_CLUSTER_ID: 'compat-cluster', EXTRA_TAGS: 'team=storage' });
}, 120_000);

afterAll(async () => {
  for (const snapshotId of snapshots) await callUnary(ctl.controller, 'deleteSnapshot', { snapshotId, secrets: {} }).catch(() => undefined);
  for (const volumeId of volumes) await callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} }).catch(() => undefined);
  await ctl?.stop();
  await proxy?.close();
});

describe('StorageClasses as aws-ebs-csi-driver documents them', () => {
  it('no parameters: a gp3 volume, tagged CSIVolumeName, ebs.csi.aws.com/cluster and the cluster id tags, plus the extra tags', async () => {
    const { name, sent } = await create({});
    expect(sent.get('VolumeType')).toBe('gp3');
    expect(sent.get('Iops')).toBeNull();
    expect(requestTags(sent)).toMatchObject({
      CSIVolumeName: name,
      'ebs.csi.aws.com/cluster': 'true',
      'kubernetes.io/cluster/compat-cluster': 'owned',
      'ebs.csi.aws.com/cluster-name': 'compat-cluster',
      KubernetesCluster: 'compat-cluster',
      Name: `compat-cluster-dynamic-${name}`,
      team: 'storage',
    });
  });

  it('type gp3, iops "16000" on 10 GiB: IOPS capped to 5000 (500 per GiB), and the PV says so', async () => {
    const { res, sent } = await create({ parameters: { type: 'gp3', iops: '16000' }, capacityRange: { requiredBytes: 10 * GiB, limitBytes: 0 } });
    expect(sent.get('Iops')).toBe('5000');
    expect(res.volume?.volumeContext.iopsNote).toBe('iops 16000 capped to 5000 IOPS: gp3 allows 500 IOPS per GiB (10 GiB)');
  });

  it('io1 with iopsPerGB above the ratio: capped; with allowAutoIOPSPerGBIncrease too low: raised to the minimum', async () => {
    const capped = await create({ parameters: { type: 'io1', iopsPerGB: '100' }, capacityRange: { requiredBytes: 10 * GiB, limitBytes: 0 } });
    expect([capped.sent.get('VolumeType'), capped.sent.get('Iops')]).toEqual(['io1', '500']);
    const raised = await create({
      parameters: { type: 'io1', iopsPerGB: '2', allowAutoIOPSPerGBIncrease: 'true' },
      capacityRange: { requiredBytes: 10 * GiB, limitBytes: 0 },
    });
    expect(raised.sent.get('Iops')).toBe('100');
    const low = await codeOf(callUnary(ctl.controller, 'createVolume', createReq(`compat-low-${Date.now()}`, { parameters: { type: 'io1', iopsPerGB: '2' } })));
    expect(low).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('allowAutoIOPSPerGBIncrease') as string });
  });

  it('blockExpress (deprecated) is accepted and changes nothing', async () => {
    const { sent } = await create({
      parameters: { type: 'io2', iops: '1000', blockExpress: 'true' },
      capacityRange: { requiredBytes: 4 * GiB, limitBytes: 0 },
    });
    expect([sent.get('VolumeType'), sent.get('Iops')]).toEqual(['io2', '1000']);
  });

  it('gp3 throughput, encrypted, the filesystem and format options, ext4EncryptionSupport and blockAttachUntilInitialized', async () => {
    const { res, sent } = await create({
      parameters: {
        type: 'gp3',
        throughput: '250',
        encrypted: 'true',
        'csi.storage.k8s.io/fstype': 'ext4',
        blockSize: '4096',
        inodeSize: '512',
        ext4BigAlloc: 'true',
        ext4ClusterSize: '65536',
        ext4EncryptionSupport: 'true',
        blockAttachUntilInitialized: 'true',
      },
    });
    expect([sent.get('Throughput'), sent.get('Encrypted')]).toEqual(['250', 'true']);
    expect(res.volume?.volumeContext).toEqual({
      fsType: 'ext4',
      blockSize: '4096',
      inodeSize: '512',
      ext4BigAlloc: 'true',
      ext4ClusterSize: '65536',
      ext4EncryptionSupport: 'true',
      blockAttachUntilInitialized: 'true',
    });
  });

  it("tagSpecification_N: literal tags (docs/tagging.md example 1) and templates with the anchor's functions (examples 2 and 3)", async () => {
    const { sent } = await create({
      parameters: {
        ...metadata,
        tagSpecification_1: 'key1=value1',
        tagSpecification_2: 'key2=hello world',
        tagSpecification_3: 'key3=',
        tagSpecification_4: 'pvcnamespace={{ .PVCNamespace }}',
        tagSpecification_5: 'pvcname={{ .PVCName }}',
        tagSpecification_6: 'pvname={{ .PVName }}',
        tagSpecification_7: 'backup={{ .PVCNamespace | contains "prod" }}',
        tagSpecification_8: 'billingID={{ .PVCNamespace | field "-" 2 | toUpper }}',
      },
    });
    expect(requestTags(sent)).toMatchObject({
      key1: 'value1',
      key2: 'hello world',
      key3: '',
      pvcnamespace: 'ns-prod-abcdef',
      pvcname: 'ebs-claim',
      pvname: 'pvc-0f1e2d3c',
      backup: 'true',
      billingID: 'ABCDEF',
      'kubernetes.io/created-for/pvc/name': 'ebs-claim',
      'kubernetes.io/created-for/pvc/namespace': 'ns-prod-abcdef',
      'kubernetes.io/created-for/pv/name': 'pvc-0f1e2d3c',
    });
  });

  it('allowAutoIOPSIncreaseOnModify and iopsPerGB are kept on the volume for later resizes', async () => {
    const { sent } = await create({
      parameters: { type: 'io2', iopsPerGB: '50', allowAutoIOPSIncreaseOnModify: 'true' },
      capacityRange: { requiredBytes: 4 * GiB, limitBytes: 0 },
    });
    expect(sent.get('Iops')).toBe('200');
    expect(requestTags(sent)).toMatchObject({ 'plinth.dev/iops-per-gb': '50', 'plinth.dev/allow-auto-iops-increase-on-modify': 'true' });
  });

  it('volumeInitializationRate: sent with a restore from a snapshot, not with a blank volume (EC2 takes it only there)', async () => {
    const blank = await create({ parameters: { volumeInitializationRate: '100' } });
    expect(blank.sent.get('VolumeInitializationRate')).toBeNull();
    // The external-snapshotter calls CreateSnapshot again until the snapshot is ready to use.
    const req = {
      name: `compat-snap-${Date.now()}`,
      sourceVolumeId: blank.res.volume!.volumeId,
      parameters: {},
      secrets: {},
      accessibilityRequirements: undefined,
    };
    let snap = await callUnary(ctl.controller, 'createSnapshot', req);
    snapshots.push(snap.snapshot!.snapshotId);
    for (const deadline = Date.now() + 60_000; !snap.snapshot?.readyToUse && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 500));
      snap = await callUnary(ctl.controller, 'createSnapshot', req);
    }
    const snapshotId = snap.snapshot!.snapshotId;
    const restored = await create({ parameters: { volumeInitializationRate: '100' }, volumeContentSource: { snapshot: { snapshotId }, volume: undefined } });
    expect([restored.sent.get('VolumeInitializationRate'), restored.sent.get('SnapshotId')]).toEqual(['100', snapshotId]);
  });

  it('the zone-ID topology key topology.k8s.aws/zone-id picks the zone it names', async () => {
    const zones = (await ec2Of(stack).send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones ?? [];
    const target = zones.find((z) => z.ZoneName !== stack.zone) ?? zones[0]!;
    const { res, sent } = await create({
      accessibilityRequirements: { requisite: [{ segments: { 'topology.k8s.aws/zone-id': target.ZoneId! } }], preferred: [] },
    });
    expect(sent.get('AvailabilityZone')).toBe(target.ZoneName);
    expect(res.volume?.accessibleTopology[0]?.segments['topology.kubernetes.io/zone']).toBe(target.ZoneName);
  });

  it.each<[string, Record<string, string>, string]>([
    ['an unknown key', { foo: 'bar' }, 'unknown parameter "foo"'],
    ['iops and iopsPerGB together', { type: 'io1', iops: '100', iopsPerGB: '10' }, 'mutually exclusive'],
    [
      'a bad template',
      { tagSpecification_1: 'x={{ .PVCName | js }}' },
      'parameter tagSpecification_1: tag template "{{ .PVCName | js }}": cannot call \'js\' function',
    ],
    ['a reserved tag key', { tagSpecification_1: 'CSIVolumeName=x' }, 'reserved'],
    // Different, by design: aws-ebs-csi-driver encrypts with the key anyway; Plinth wants the class to say encrypted "true".
    ['kmsKeyId without encrypted (differs: the anchor encrypts anyway)', { kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/x' }, 'kmsKeyId needs encrypted'],
    // Different, by design: aws-ebs-csi-driver ignores throughput on other types.
    ['throughput on io1 (differs: the anchor ignores it)', { type: 'io1', iops: '100', throughput: '200' }, 'only gp3 takes a throughput'],
  ])('refuses %s with INVALID_ARGUMENT naming it, creating nothing', async (_what, parameters, message) => {
    const before = answered.filter((a) => a.action === 'CreateVolume').length;
    const f = await codeOf(callUnary(ctl.controller, 'createVolume', createReq(`compat-bad-${Date.now()}`, { parameters })));
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain(message);
    expect(answered.filter((a) => a.action === 'CreateVolume').length).toBe(before);
  });
});

describe('VolumeSnapshotClass and VolumeAttributesClass as aws-ebs-csi-driver documents them', () => {
  it('snapshot tag templates (docs/tagging.md) with the ownership and extra tags', async () => {
    const { res } = await create({});
    const name = `compat-vs-${Date.now()}`;
    const snap = await callUnary(ctl.controller, 'createSnapshot', {
      name,
      sourceVolumeId: res.volume!.volumeId,
      secrets: {},
      accessibilityRequirements: undefined,
      parameters: {
        'csi.storage.k8s.io/volumesnapshot/name': 'ebs-snapshot',
        'csi.storage.k8s.io/volumesnapshot/namespace': 'ns-prod',
        'csi.storage.k8s.io/volumesnapshotcontent/name': 'snapcontent-1',
        tagSpecification_1: 'key1=value1',
        tagSpecification_2: 'key2=',
        tagSpecification_3: 'snapshotnamespace={{ .VolumeSnapshotNamespace }}',
        tagSpecification_4: 'snapshotname={{ .VolumeSnapshotName }}',
        tagSpecification_5: 'snapshotcontentname={{ .VolumeSnapshotContentName }}',
        tagSpecification_6: 'key6={{ .VolumeSnapshotNamespace | contains "prod" }}',
      },
    });
    snapshots.push(snap.snapshot!.snapshotId);
    const sent = answered.find((a) => a.action === 'CreateSnapshot' && requestTags(a.params).CSIVolumeSnapshotName === name)!.params;
    expect(requestTags(sent)).toMatchObject({
      key1: 'value1',
      key2: '',
      snapshotnamespace: 'ns-prod',
      snapshotname: 'ebs-snapshot',
      snapshotcontentname: 'snapcontent-1',
      key6: 'true',
      'ebs.csi.aws.com/cluster': 'true',
      'ebs.csi.aws.com/cluster-name': 'compat-cluster',
      team: 'storage',
    });
  });

  it.each<[Record<string, string>, string]>([
    [
      { outpostArn: 'arn:aws:outposts:us-east-1:111122223333:outpost/op-1' },
      'snapshot parameter "outpostArn" is not supported: Plinth does not support AWS Outposts',
    ],
    [{ lockMode: 'governance', lockDuration: '1' }, 'is not supported: Plinth does not lock snapshots'],
  ])('refuses what Plinth does not do, naming the key and why: %j', async (parameters, message) => {
    const { res } = await create({});
    const f = await codeOf(
      callUnary(ctl.controller, 'createSnapshot', {
        name: `compat-vs-bad-${Date.now()}`,
        sourceVolumeId: res.volume!.volumeId,
        secrets: {},
        parameters,
        accessibilityRequirements: undefined,
      }),
    );
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain(message);
  });

  it('volumeType (the older spelling of type) changes the type; tagDeletion_N deletes', async () => {
    const { res } = await create({
      parameters: { type: 'gp2', tagSpecification_1: 'location=Seattle' },
      capacityRange: { requiredBytes: 10 * GiB, limitBytes: 0 },
    });
    const volumeId = res.volume!.volumeId;
    await callUnary(
      ctl.controller,
      'controllerModifyVolume',
      { volumeId, secrets: {}, mutableParameters: { volumeType: 'gp3', tagDeletion_1: 'location' } },
      { timeoutMs: 60_000 },
    );
    const v = await volumeById(ec2Of(stack), volumeId);
    expect(v?.VolumeType).toBe('gp3');
    expect((v?.Tags ?? []).map((t) => t.Key)).not.toContain('location');
  });
});
