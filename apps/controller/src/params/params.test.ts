import { describe, expect, it } from 'vitest';
import { checkShape, modifiedShape, type ShapeChange, type VolumeShape } from './shape.js';
import { parseMutableParams, withMutableParams } from './mutable-params.js';
import { iopsOnResize, resolveIops } from './iops.js';
import { iopsTags } from './mutable-params.js';
import { parseSnapshotParams } from './snapshot-params.js';
import { parseExtraTags } from './tags.js';
import { parseVolumeParams } from './volume-params.js';

const kindOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return `${(e as { kind: string }).kind}: ${(e as Error).message}`;
  }
  return undefined;
};

describe('StorageClass parameters', () => {
  it('defaults to an unencrypted gp3 volume', () => {
    expect(parseVolumeParams({})).toMatchObject({ type: 'gp3', encrypted: false, tags: {} });
  });

  it('reads aws-ebs-csi-driver spellings, case-insensitively', () => {
    const p = parseVolumeParams({
      type: 'io2',
      iopsPerGB: '50',
      encrypted: 'true',
      kmsKeyId: 'arn:aws:kms:us-east-1:1:key/abc',
      tagSpecification_1: 'team=storage',
      TagSpecification_2: 'cost-center = 42',
      'csi.storage.k8s.io/fstype': 'xfs',
      'csi.storage.k8s.io/pvc/name': 'data',
      'csi.storage.k8s.io/pvc/namespace': 'db',
      'csi.storage.k8s.io/pv/name': 'pvc-123',
      blocksize: '4096',
    });
    expect(p).toMatchObject({
      type: 'io2',
      iopsPerGB: 50,
      encrypted: true,
      fsType: 'xfs',
      pvcName: 'data',
      pvcNamespace: 'db',
      pvName: 'pvc-123',
      tags: { team: 'storage', 'cost-center': '42' },
      format: { blockSize: '4096' },
    });
  });

  it.each([
    [{ foo: 'bar' }, 'InvalidArgument: unknown parameter "foo"'],
    [{ type: 'gp9' }, 'unknown volume type "gp9"'],
    [{ iops: '3000', iopsPerGB: '10' }, 'mutually exclusive'],
    [{ type: 'gp2', iops: '3000' }, 'gp2 does not take an IOPS setting'],
    [{ type: 'io1', throughput: '200', iops: '100' }, 'only gp3 takes a throughput'],
    [{ type: 'io1' }, 'iops or iopsPerGB is required for volume type io1'],
    [{ throughput: '5000' }, 'throughput: 5000 MiB/s is outside'],
    [{ encrypted: 'yes' }, 'parameter encrypted: expected "true" or "false"'],
    [{ iops: '-3' }, 'parameter iops: expected a positive integer'],
    [{ tagSpecification_1: 'novalue' }, 'expected "key=value"'],
    [{ tagSpecification_1: 'aws:foo=bar' }, 'reserved "aws:" prefix'],
    [{ tagSpecification_1: 'CSIVolumeName=x' }, 'reserved by Plinth'],
    [{ kmsKeyId: 'k' }, 'kmsKeyId needs encrypted'],
    [{ fsType: 'ntfs' }, 'unsupported filesystem "ntfs"'],
  ])('rejects %j naming the problem', (params, message) => {
    const got = kindOf(() => parseVolumeParams(params));
    expect(got).toContain('InvalidArgument');
    expect(got).toContain(message.replace('InvalidArgument: ', ''));
  });
});

describe('IOPS', () => {
  const iops = (params: Record<string, string>, size: number) => resolveIops(parseVolumeParams(params), size);
  it('computes iopsPerGB × size, capped by the type maximum and ratio, saying so', () => {
    expect(iops({ type: 'io1', iopsPerGB: '10' }, 100)).toEqual({ iops: 1000 });
    expect(iops({ type: 'io1', iopsPerGB: '100' }, 100)).toEqual({
      iops: 5000,
      note: 'iopsPerGB 100 × 100 GiB = 10000 IOPS capped to 5000 IOPS: io1 allows 50 IOPS per GiB (100 GiB)',
    });
    expect(iops({ type: 'io2', iopsPerGB: '1000' }, 1000).iops).toBe(256000);
  });
  it('raises to the minimum only when allowed', () => {
    expect(kindOf(() => iops({ type: 'io1', iopsPerGB: '2' }, 10))).toContain('allowAutoIOPSPerGBIncrease');
    expect(iops({ type: 'io1', iopsPerGB: '2', allowAutoIOPSPerGBIncrease: 'true' }, 10)).toMatchObject({
      iops: 100,
      note: expect.stringContaining('raised') as unknown,
    });
    expect(kindOf(() => iops({ iops: '2000' }, 100))).toContain('parameter iops: iops 2000 is below 3000 for gp3');
  });
  it('caps explicit IOPS as aws-ebs-csi-driver does: gp3 with iops 16000 on 10 GiB gets 5000', () => {
    expect(iops({ iops: '4000' }, 100)).toEqual({ iops: 4000 });
    expect(iops({ type: 'gp3', iops: '16000' }, 10)).toEqual({
      iops: 5000,
      note: 'iops 16000 capped to 5000 IOPS: gp3 allows 500 IOPS per GiB (10 GiB)',
    });
    expect(iops({ iops: '100000' }, 1000)).toMatchObject({ iops: 80000 });
    expect(iops({}, 10)).toEqual({});
  });
  it('never caps below the type minimum: a 1 GiB gp3 takes its 3000 baseline IOPS', () => {
    expect(iops({ iops: '3000' }, 1)).toEqual({ iops: 3000 });
    expect(iops({ iops: '3001' }, 1).iops).toBe(3000);
    expect(iops({ iopsPerGB: '10', allowAutoIOPSPerGBIncrease: 'true' }, 1).iops).toBe(3000);
  });
  it('keeps iopsPerGB × size on expansion only when allowAutoIOPSIncreaseOnModify was set', () => {
    const tags = iopsTags({ iopsPerGB: 50, allowAutoIopsIncreaseOnModify: true });
    expect(tags).toEqual({ 'plinth.dev/iops-per-gb': '50', 'plinth.dev/allow-auto-iops-increase-on-modify': 'true' });
    expect(iopsOnResize('io2', tags, 200).iops).toBe(10000);
    expect(iopsOnResize('io2', { ...tags, 'plinth.dev/allow-auto-iops-increase-on-modify': 'false' }, 200)).toEqual({});
    expect(iopsOnResize('gp2', tags, 200)).toEqual({});
  });
});

describe('aws-ebs-csi-driver parameters with a warning or an EC2 setting', () => {
  it('accepts blockExpress and fstype with a deprecation warning', () => {
    const warnings: string[] = [];
    const p = parseVolumeParams({ type: 'io2', iops: '1000', blockExpress: 'true', fstype: 'xfs' }, (m) => warnings.push(m));
    expect(p).toMatchObject({ type: 'io2', iops: 1000, fsType: 'xfs' });
    expect(warnings).toEqual([
      'parameter blockExpress is deprecated and has no effect: every io2 volume is Block Express (up to 256000 IOPS)',
      'parameter fstype is deprecated; use csi.storage.k8s.io/fstype',
    ]);
  });
  it('reads allowAutoIOPSIncreaseOnModify, volumeInitializationRate, blockAttachUntilInitialized and ext4EncryptionSupport', () => {
    const p = parseVolumeParams({
      allowAutoIOPSIncreaseOnModify: 'true',
      volumeInitializationRate: '200',
      blockAttachUntilInitialized: 'true',
      ext4EncryptionSupport: 'true',
    });
    expect(p).toMatchObject({
      allowAutoIopsIncreaseOnModify: true,
      initializationRate: 200,
      blockAttachUntilInitialized: true,
      format: { ext4EncryptionSupport: 'true' },
    });
    expect(parseVolumeParams({ ext4EncryptionSupport: 'false' }).format).toEqual({});
  });
  it.each([
    [{ volumeInitializationRate: '50' }, "parameter volumeInitializationRate: 50 MiB/s is outside EC2's 100-300 MiB/s"],
    [{ volumeInitializationRate: 'fast' }, 'parameter volumeInitializationRate: expected a positive integer'],
    [{ allowAutoIOPSIncreaseOnModify: 'yes' }, 'parameter allowAutoIOPSIncreaseOnModify: expected "true" or "false"'],
    [{ ext4EncryptionSupport: '1' }, 'parameter ext4EncryptionSupport: expected "true" or "false"'],
  ])('rejects %j naming the key', (params, message) => {
    expect(kindOf(() => parseVolumeParams(params))).toContain(`InvalidArgument: ${message}`);
  });
});

describe('tag templates', () => {
  const meta = { 'csi.storage.k8s.io/pvc/name': 'ebs-claim', 'csi.storage.k8s.io/pvc/namespace': 'ns-prod-abcdef', 'csi.storage.k8s.io/pv/name': 'pvc-1' };
  it("fills aws-ebs-csi-driver's variables and functions", () => {
    const p = parseVolumeParams({
      ...meta,
      tagSpecification_1: 'pvcnamespace={{ .PVCNamespace }}',
      tagSpecification_2: 'pvcname={{ .PVCName }}',
      tagSpecification_3: 'pvname={{ .PVName }}',
      tagSpecification_4: 'backup={{ .PVCNamespace | contains "prod" }}',
      tagSpecification_5: 'billingID={{ .PVCNamespace | field "-" 2 | toUpper }}',
      tagSpecification_6: 'short={{ substring 0 3 .PVCName }}-{{ .PVName | toLower }}',
      tagSpecification_7: 'key3=',
      tagSpecification_8: 'key2=hello world',
    });
    expect(p.tags).toEqual({
      pvcnamespace: 'ns-prod-abcdef',
      pvcname: 'ebs-claim',
      pvname: 'pvc-1',
      backup: 'true',
      billingID: 'ABCDEF',
      short: 'ebs-pvc-1',
      key3: '',
      key2: 'hello world',
    });
  });
  it('leaves a variable empty when the provisioner sent no metadata, as Go templates do', () => {
    expect(parseVolumeParams({ tagSpecification_1: 'pvc={{ .PVCName }}' }).tags).toEqual({ pvc: '' });
  });
  it('fills snapshot variables in a VolumeSnapshotClass', () => {
    const p = parseSnapshotParams({
      'csi.storage.k8s.io/volumesnapshot/name': 'ebs-snapshot',
      'csi.storage.k8s.io/volumesnapshot/namespace': 'ns-prod',
      'csi.storage.k8s.io/volumesnapshotcontent/name': 'snapcontent-1',
      tagSpecification_1: 'snapshotnamespace={{ .VolumeSnapshotNamespace }}',
      tagSpecification_2: 'snapshotname={{ .VolumeSnapshotName }}',
      tagSpecification_3: 'snapshotcontentname={{ .VolumeSnapshotContentName }}',
      tagSpecification_4: 'key6={{ .VolumeSnapshotNamespace | contains "prod" }}',
    });
    expect(p.tags).toEqual({ snapshotnamespace: 'ns-prod', snapshotname: 'ebs-snapshot', snapshotcontentname: 'snapcontent-1', key6: 'true' });
  });
  it.each([
    ['x={{ .PVCName', 'parameter tagSpecification_1: tag template "{{ .PVCName": unclosed action'],
    ['x={{ .Nope }}', "can't evaluate field Nope"],
    ['x={{ .PVCName | js }}', "cannot call 'js' function"],
    ['x={{ urlquery .PVCName }}', "cannot call 'urlquery' function"],
    ['x={{ .PVCName | field "-" 9 }}', 'field: cannot index into split string'],
    ['x={{ if .PVCName }}y{{ end }}', '"if" actions are not supported'],
    ['x={{ nosuch .PVCName }}', 'function "nosuch" not defined'],
  ])('refuses %s as INVALID_ARGUMENT naming the key', (spec, message) => {
    const got = kindOf(() => parseVolumeParams({ ...meta, tagSpecification_1: spec }));
    expect(got).toContain('InvalidArgument: parameter tagSpecification_1');
    expect(got).toContain(message);
  });
  it('reads cluster-wide extra tags, refusing reserved keys', () => {
    expect(parseExtraTags('team=storage, cost-center=42,')).toEqual({ team: 'storage', 'cost-center': '42' });
    expect(() => parseExtraTags('CSIVolumeName=x')).toThrow('reserved');
    expect(() => parseExtraTags('novalue')).toThrow('key=value');
  });
});

describe('mutable parameters (VolumeAttributesClass)', () => {
  it('reads type, iops, throughput and tags case-insensitively, and accepts the PVC/PV names the resizer may add', () => {
    expect(
      parseMutableParams({ Type: 'GP3', IOPS: '4000', throughput: '250', tagSpecification_1: 'tier=gold', 'csi.storage.k8s.io/pvc/name': 'data' }),
    ).toEqual({ type: 'gp3', iops: 4000, throughput: 250, tags: { tier: 'gold' }, deleteTags: [] });
    expect(parseMutableParams({})).toEqual({ tags: {}, deleteTags: [] });
  });
  it('reads volumeType (deprecated: type wins), iopsPerGB, allowAutoIOPSIncreaseOnModify, tagDeletion_N and tag templates', () => {
    const warnings: string[] = [];
    const m = parseMutableParams(
      {
        volumeType: 'io2',
        iopsPerGB: '20',
        allowAutoIOPSIncreaseOnModify: 'true',
        tagDeletion_1: 'location',
        tagDeletion_2: 'cost-center',
        tagSpecification_1: 'PVC-Name={{ .PVCName }}',
        'csi.storage.k8s.io/pvc/name': 'data',
      },
      (w) => warnings.push(w),
    );
    expect(m).toEqual({
      type: 'io2',
      iopsPerGB: 20,
      allowAutoIopsIncreaseOnModify: true,
      tags: { 'PVC-Name': 'data' },
      deleteTags: ['location', 'cost-center'],
    });
    expect(warnings).toEqual(['parameter volumeType is deprecated; use type']);
    expect(parseMutableParams({ volumeType: 'io2', type: 'gp2' }).type).toBe('gp2');
  });

  it.each([
    [{ XXX_FakeKey: 'x' }, 'unknown mutable parameter "XXX_FakeKey"'],
    [{ encrypted: 'true' }, 'unknown mutable parameter "encrypted"'],
    [{ blockExpress: 'true' }, 'unknown mutable parameter "blockExpress"'],
    [{ iops: '3000', iopsPerGB: '10' }, 'mutually exclusive'],
    [{ tagDeletion_1: 'CSIVolumeName' }, 'parameter tagDeletion_1: tag key "CSIVolumeName" is reserved by Plinth'],
    [{ tagDeletion_1: 'ebs.csi.aws.com/cluster' }, 'is reserved by Plinth (prefix "ebs.csi.aws.com/")'],
    [{ tagDeletion_1: 'kubernetes.io/created-for/pvc/name' }, 'reserved'],
    [{ type: 'gp9' }, 'unknown volume type "gp9"'],
    [{ iops: 'many' }, 'parameter iops: expected a positive integer'],
    [{ tagSpecification_3: 'aws:x=y' }, 'reserved "aws:" prefix'],
  ])('rejects %j naming the key', (params, message) => {
    const got = kindOf(() => parseMutableParams(params));
    expect(got).toContain('InvalidArgument');
    expect(got).toContain(message);
  });

  it('overrides StorageClass parameters at creation, merging tags by key', () => {
    const sc = parseVolumeParams({ type: 'gp3', iops: '3000', throughput: '125', tagSpecification_1: 'suite=a', tagSpecification_2: 'tier=silver' });
    expect(withMutableParams(sc, parseMutableParams({ throughput: '250', tagSpecification_1: 'tier=gold' }))).toMatchObject({
      type: 'gp3',
      iops: 3000,
      throughput: 250,
      tags: { suite: 'a', tier: 'gold' },
    });
    // Another type drops the StorageClass's settings it does not take; a class's own IOPS replaces iopsPerGB.
    const gp2 = withMutableParams(sc, parseMutableParams({ type: 'gp2' }));
    expect([gp2.type, gp2.iops, gp2.throughput]).toEqual(['gp2', undefined, undefined]);
    const io1 = withMutableParams(parseVolumeParams({ type: 'io1', iopsPerGB: '10' }), parseMutableParams({ iops: '500' }));
    expect([io1.iops, io1.iopsPerGB]).toEqual([500, undefined]);
    expect(kindOf(() => withMutableParams(parseVolumeParams({ type: 'gp2' }), parseMutableParams({ throughput: '200' })))).toContain(
      'only gp3 takes a throughput',
    );
  });
});

describe('a volume after ModifyVolume', () => {
  const gp2: VolumeShape = { type: 'gp2', sizeGiB: 100 };
  const gp3: VolumeShape = { type: 'gp3', sizeGiB: 10, iops: 3000, throughput: 125 };
  const io1: VolumeShape = { type: 'io1', sizeGiB: 100, iops: 2000 };

  it("follows EC2's defaults for what the change leaves out", () => {
    expect(modifiedShape(gp2, { type: 'gp3' })).toEqual({ type: 'gp3', sizeGiB: 100, iops: 3000, throughput: 125 });
    expect(modifiedShape(gp3, { iops: 4000 })).toEqual({ type: 'gp3', sizeGiB: 10, iops: 4000, throughput: 125 });
    expect(modifiedShape(io1, { type: 'io2' })).toEqual({ type: 'io2', sizeGiB: 100, iops: 3000, throughput: undefined });
    expect(modifiedShape(io1, { type: 'gp2', sizeGiB: 200 })).toEqual({ type: 'gp2', sizeGiB: 200, iops: undefined, throughput: undefined });
    expect(modifiedShape(gp3, { sizeGiB: 5 }).sizeGiB).toBe(10);
  });

  const check = (shape: VolumeShape, change: ShapeChange) => kindOf(() => checkShape(modifiedShape(shape, change), change));

  it('accepts what EC2 accepts', () => {
    expect(check(gp2, { type: 'gp3', iops: 4000, throughput: 500 })).toBeUndefined();
    expect(check(gp3, { throughput: 750 })).toBeUndefined();
    expect(check(gp3, { type: 'gp2' })).toBeUndefined();
    expect(check(io1, { iops: 5000 })).toBeUndefined();
  });

  it.each<[VolumeShape, ShapeChange, string]>([
    [gp2, { iops: 3000 }, 'InvalidArgument: parameter iops: volume type gp2 does not take an IOPS setting'],
    [io1, { throughput: 200 }, 'InvalidArgument: parameter throughput: only gp3 takes a throughput setting, not io1'],
    [gp3, { iops: 6000 }, 'InvalidArgument: parameter iops: 6000 IOPS exceeds 500 IOPS per GiB for a 10 GiB gp3 volume'],
    [gp3, { iops: 100000 }, 'InvalidArgument: parameter iops: 100000 IOPS is outside 3000-80000 for gp3'],
    [gp3, { throughput: 100 }, 'InvalidArgument: parameter throughput: 100 MiB/s is outside 125-2000 for gp3'],
    [gp3, { throughput: 1000 }, 'InvalidArgument: parameter throughput: 1000 MiB/s is more than 0.25 MiB/s per IOPS allows with 3000 IOPS (at most 750)'],
    [gp3, { type: 'st1' }, 'InvalidArgument: parameter type: a 10 GiB volume cannot be st1 (125-16384 GiB)'],
    [
      gp3,
      { type: 'io1' },
      "InvalidArgument: parameter type: io1 gets EC2's default of 3000 IOPS unless iops is set; that: 3000 IOPS exceeds 50 IOPS per GiB for a 10 GiB io1 volume",
    ],
    [{ type: 'gp2', sizeGiB: 16000 }, { sizeGiB: 17000 }, 'OutOfRange: capacity_range: a 17000 GiB volume cannot be gp2 (1-16384 GiB)'],
  ])('refuses %j changed by %j, naming the parameter', (shape, change, message) => {
    expect(check(shape, change)).toBe(message);
  });
});
