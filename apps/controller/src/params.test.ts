import { describe, expect, it } from 'vitest';
import { parseVolumeParams, resolveIops } from './params.js';

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
