import { ownershipTags, type SnapshotInfo } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { GiB } from './capacity.js';
import { cloneZone } from './topology.js';
import { contentSourceOf, contentSourceTag, toCsiContentSource } from './content-source.js';
import { fromSnapshotResult, snapshotResult, toCsiSnapshot } from './snapshot-view.js';
import { parseSnapshotParams, snapshotTags } from './params/snapshot-params.js';
import { sizeForSource } from './capacity.js';

const kindOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { kind?: string }).kind;
  }
  return undefined;
};

describe('VolumeSnapshotClass parameters', () => {
  it('reads tags, fast restore zones and the snapshotter metadata, keys in any case', () => {
    const p = parseSnapshotParams({
      tagSpecification_1: 'team=storage',
      TAGSPECIFICATION_2: 'cost-center = 42 ',
      FastSnapshotRestoreAvailabilityZones: 'us-east-1a, us-east-1b,us-east-1a',
      'csi.storage.k8s.io/volumesnapshot/name': 'snap-of-db',
      'csi.storage.k8s.io/volumesnapshot/namespace': 'db',
      'csi.storage.k8s.io/volumesnapshotcontent/name': 'snapcontent-123',
    });
    expect(p).toEqual({
      tags: { team: 'storage', 'cost-center': '42' },
      fastRestoreZones: ['us-east-1a', 'us-east-1b'],
      metadataTags: {
        'kubernetes.io/created-for/volumesnapshot/name': 'snap-of-db',
        'kubernetes.io/created-for/volumesnapshot/namespace': 'db',
        'kubernetes.io/created-for/volumesnapshotcontent/name': 'snapcontent-123',
      },
    });
  });

  it.each([
    [{ tagSpecification_1: 'novalue' }, 'tagSpecification_1'],
    [{ tagSpecification_1: '=v' }, 'tagSpecification_1'],
    [{ tagSpecification_1: 'aws:x=y' }, 'reserved'],
    [{ tagSpecification_1: 'CSIVolumeSnapshotName=mine' }, 'reserved'],
    [{ tagSpecification_1: 'plinth.dev/cluster-id=other' }, 'reserved'],
    [{ tagSpecification_1: `k=${'v'.repeat(257)}` }, '256'],
    [{ fastSnapshotRestoreAvailabilityZones: 'us-east-1a,,us-east-1b' }, 'fastSnapshotRestoreAvailabilityZones'],
    [{ fastSnapshotRestoreAvailabilityZones: 'US East' }, 'fastSnapshotRestoreAvailabilityZones'],
    [{ outpostArn: 'arn:aws:outposts:…' }, 'snapshot parameter "outpostArn" is not supported: Plinth does not support AWS Outposts'],
    [{ lockMode: 'governance' }, 'snapshot parameter "lockMode" is not supported: Plinth does not lock snapshots'],
  ])('rejects %j as INVALID_ARGUMENT naming the problem', (params, text) => {
    expect(() => parseSnapshotParams(params)).toThrow(text);
    expect(kindOf(() => parseSnapshotParams(params))).toBe('InvalidArgument');
  });

  it('tags a snapshot with its CSI name, the cluster, the extra and user tags and the metadata; the class may set Name, as in aws-ebs-csi-driver', () => {
    const owner = { extraTags: { team: 'all', Name: 'x' }, ownerTags: (_: 'snapshot', name: string) => ownershipTags('snapshot', name, 'c1') };
    const tags = snapshotTags('snapshot-1', owner, parseSnapshotParams({ tagSpecification_1: 'Name=mine', 'csi.storage.k8s.io/volumesnapshot/name': 'vs' }));
    expect(tags).toEqual({
      CSIVolumeSnapshotName: 'snapshot-1',
      'plinth.dev/cluster-id': 'c1',
      'ebs.csi.aws.com/cluster': 'true',
      team: 'all',
      Name: 'mine',
      'kubernetes.io/created-for/volumesnapshot/name': 'vs',
    });
  });
});

describe('EC2 snapshot → CSI Snapshot', () => {
  const snap: SnapshotInfo = {
    id: 'snap-0123456789abcdef0',
    volumeId: 'vol-0123456789abcdef0',
    sizeGiB: 8,
    startedAt: new Date('2026-01-02T03:04:05Z'),
    state: 'pending',
    encrypted: false,
    tags: {},
  };

  it('is ready to use only once completed, with the size in bytes and the start time', () => {
    expect(toCsiSnapshot(snap)).toEqual({
      snapshotId: 'snap-0123456789abcdef0',
      sourceVolumeId: 'vol-0123456789abcdef0',
      sizeBytes: 8 * GiB,
      creationTime: new Date('2026-01-02T03:04:05Z'),
      readyToUse: false,
      groupSnapshotId: '',
      accessibleTopology: [],
    });
    expect(toCsiSnapshot({ ...snap, state: 'completed' }).readyToUse).toBe(true);
    expect(toCsiSnapshot({ ...snap, state: 'error' }).readyToUse).toBe(false);
    expect(toCsiSnapshot({ ...snap, tags: { 'plinth.dev/group-snapshot-id': 'groupsnap-1' } }).groupSnapshotId).toBe('groupsnap-1');
  });

  it('survives a job result (JSON) unchanged', () => {
    const csi = toCsiSnapshot(snap);
    expect(fromSnapshotResult(JSON.parse(JSON.stringify(snapshotResult(csi))) as ReturnType<typeof snapshotResult>)).toEqual(csi);
  });
});

describe('CreateVolume content source', () => {
  it('takes exactly one source with an EBS id; an id EBS cannot have is NOT_FOUND', () => {
    expect(contentSourceOf(undefined)).toBeUndefined();
    expect(contentSourceOf({ snapshot: { snapshotId: 'snap-0123456789abcdef0' } })).toEqual({ snapshotId: 'snap-0123456789abcdef0' });
    expect(contentSourceOf({ volume: { volumeId: 'vol-0123456789abcdef0' } })).toEqual({ volumeId: 'vol-0123456789abcdef0' });
    expect(kindOf(() => contentSourceOf({ snapshot: { snapshotId: 'non-existing-snapshot-id' } }))).toBe('NotFound');
    expect(kindOf(() => contentSourceOf({ volume: { volumeId: 'fake-vol' } }))).toBe('NotFound');
    expect(kindOf(() => contentSourceOf({ snapshot: { snapshotId: '' } }))).toBe('InvalidArgument');
    expect(kindOf(() => contentSourceOf({}))).toBe('InvalidArgument');
    expect(kindOf(() => contentSourceOf({ snapshot: { snapshotId: 'snap-0123456789abcdef0' }, volume: { volumeId: 'vol-0123456789abcdef0' } }))).toBe(
      'InvalidArgument',
    );
  });

  it('round-trips to the response and names the source in its tag', () => {
    expect(toCsiContentSource({ snapshotId: 'snap-1' })).toEqual({ snapshot: { snapshotId: 'snap-1' } });
    expect(toCsiContentSource({ volumeId: 'vol-1' })).toEqual({ volume: { volumeId: 'vol-1' } });
    expect(toCsiContentSource(undefined)).toBeUndefined();
    expect(contentSourceTag({ snapshotId: 'snap-1' })).toBe('snapshot:snap-1');
    expect(contentSourceTag({ volumeId: 'vol-1' })).toBe('volume:vol-1');
  });

  const lim = { minGiB: 1, maxGiB: 16384 };
  const src = { sizeGiB: 8, what: 'snapshot snap-1' };
  it('sizes a volume from its source: at least the source, OUT_OF_RANGE below it', () => {
    expect(sizeForSource(undefined, 100, src, lim)).toBe(8);
    expect(sizeForSource({ requiredBytes: 0, limitBytes: 20 * GiB }, 20, src, lim)).toBe(8);
    expect(sizeForSource({ requiredBytes: 8 * GiB, limitBytes: 0 }, 8, src, lim)).toBe(8);
    expect(sizeForSource({ requiredBytes: 10 * GiB, limitBytes: 0 }, 10, src, lim)).toBe(10);
    expect(sizeForSource({ requiredBytes: 0, limitBytes: 0 }, 100, { sizeGiB: 8, what: 'x' }, { minGiB: 125, maxGiB: 16384 })).toBe(125);
    expect(kindOf(() => sizeForSource({ requiredBytes: 4 * GiB, limitBytes: 0 }, 4, src, lim))).toBe('OutOfRange');
    expect(() => sizeForSource({ requiredBytes: 4 * GiB, limitBytes: 0 }, 4, src, lim)).toThrow('smaller than the source snapshot snap-1 (8 GiB)');
    expect(kindOf(() => sizeForSource({ requiredBytes: 0, limitBytes: 4 * GiB }, 4, src, lim))).toBe('OutOfRange');
    expect(kindOf(() => sizeForSource(undefined, 100, { sizeGiB: 2000, what: 'x' }, { minGiB: 1, maxGiB: 1024 }))).toBe('OutOfRange');
    // Source gone, the volume made from it found by name: no size to check against.
    expect(sizeForSource(undefined, 100, { sizeGiB: 0, what: 'x' }, lim)).toBe(100);
    expect(sizeForSource({ requiredBytes: GiB, limitBytes: 0 }, 1, undefined, lim)).toBe(1);
  });

  it('puts a clone in its source’s zone, refusing requisite topology elsewhere', () => {
    expect(cloneZone('us-east-1a', [], 'volume vol-1')).toBe('us-east-1a');
    expect(cloneZone('us-east-1a', ['us-east-1b', 'us-east-1a'], 'volume vol-1')).toBe('us-east-1a');
    expect(kindOf(() => cloneZone('us-east-1a', ['us-east-1b'], 'volume vol-1'))).toBe('InvalidArgument');
    expect(() => cloneZone('us-east-1a', ['us-east-1b'], 'volume vol-1')).toThrow(
      'volume vol-1 is in zone us-east-1a, outside the requisite zones (us-east-1b)',
    );
  });
});
