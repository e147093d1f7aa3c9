import { describe, expect, it } from 'vitest';
import { checkShape, modifiedShape, type ShapeChange, type VolumeShape } from './shape.js';
import { parseMutableParams, withMutableParams } from './mutable-params.js';
import { resolveIops } from './iops.js';
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
  it('computes iopsPerGB × size, capped by the type maximum and ratio', () => {
    expect(resolveIops(parseVolumeParams({ type: 'io1', iopsPerGB: '10' }), 100)).toBe(1000);
    expect(resolveIops(parseVolumeParams({ type: 'io1', iopsPerGB: '100' }), 100)).toBe(5000);
    expect(resolveIops(parseVolumeParams({ type: 'io2', iopsPerGB: '1000' }), 1000)).toBe(256000);
  });

  it('raises to the minimum only when allowed', () => {
    const low = parseVolumeParams({ type: 'io1', iopsPerGB: '2' });
    expect(kindOf(() => resolveIops(low, 10))).toContain('allowAutoIOPSPerGBIncrease');
    expect(resolveIops(parseVolumeParams({ type: 'io1', iopsPerGB: '2', allowAutoIOPSPerGBIncrease: 'true' }), 10)).toBe(100);
  });

  it('checks explicit IOPS against range and size', () => {
    expect(resolveIops(parseVolumeParams({ iops: '4000' }), 100)).toBe(4000);
    expect(kindOf(() => resolveIops(parseVolumeParams({ iops: '2000' }), 100))).toContain('outside 3000-80000');
    expect(kindOf(() => resolveIops(parseVolumeParams({ iops: '16000' }), 10))).toContain('500 IOPS per GiB');
    expect(resolveIops(parseVolumeParams({}), 10)).toBeUndefined();
  });

  it('never caps below the type minimum: a 1 GiB gp3 takes its 3000 baseline IOPS', () => {
    expect(resolveIops(parseVolumeParams({ iops: '3000' }), 1)).toBe(3000);
    expect(kindOf(() => resolveIops(parseVolumeParams({ iops: '3001' }), 1))).toContain('500 IOPS per GiB');
    expect(resolveIops(parseVolumeParams({ iopsPerGB: '10', allowAutoIOPSPerGBIncrease: 'true' }), 1)).toBe(3000);
  });
});

describe('mutable parameters (VolumeAttributesClass)', () => {
  it('reads type, iops, throughput and tags case-insensitively, and accepts the PVC/PV names the resizer may add', () => {
    expect(
      parseMutableParams({ Type: 'GP3', IOPS: '4000', throughput: '250', tagSpecification_1: 'tier=gold', 'csi.storage.k8s.io/pvc/name': 'data' }),
    ).toEqual({ type: 'gp3', iops: 4000, throughput: 250, tags: { tier: 'gold' } });
    expect(parseMutableParams({})).toEqual({ tags: {} });
  });

  it.each([
    [{ XXX_FakeKey: 'x' }, 'unknown mutable parameter "XXX_FakeKey"'],
    [{ encrypted: 'true' }, 'unknown mutable parameter "encrypted"'],
    [{ iopsPerGB: '10' }, 'unknown mutable parameter "iopsPerGB"'],
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
