import type { SnapshotInfo, VolumeInfo } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { groupSnapshotId, isGroupSnapshotId, parseGroupParams, planGroup, toGroupSnapshot } from './group-snapshots.js';

const base: VolumeInfo = {
  id: '',
  sizeGiB: 1,
  type: 'gp3',
  encrypted: false,
  zone: 'us-east-1a',
  state: 'in-use',
  attachments: [],
  tags: {},
  multiAttach: false,
};
const vol = (id: string, ...instances: string[]): VolumeInfo => ({
  ...base,
  id,
  attachments: instances.map((i) => ({ instanceId: i, device: '/dev/xvdba', state: 'attached' })),
});
const snap = (id: string, volumeId: string, state: string, start: string): SnapshotInfo => ({
  id,
  volumeId,
  state,
  startedAt: new Date(start),
  sizeGiB: 2,
  encrypted: false,
  tags: {},
});

describe('group snapshot ids', () => {
  it('are derived from cluster and name, distinct per cluster, and recognisable', () => {
    const a = groupSnapshotId('c1', 'nightly');
    expect(a).toBe(groupSnapshotId('c1', 'nightly'));
    expect(a).not.toBe(groupSnapshotId('c2', 'nightly'));
    expect(a).not.toBe(groupSnapshotId('c1', 'nightly-2'));
    expect(isGroupSnapshotId(a)).toBe(true);
    expect(isGroupSnapshotId('snap-0123456789abcdef0')).toBe(false);
  });
});

describe('planGroup', () => {
  it('snapshots volumes on one instance together and unattached ones alone', () => {
    expect(planGroup([vol('vol-a', 'i-1'), vol('vol-b'), vol('vol-c', 'i-1')])).toEqual({
      instanceId: 'i-1',
      attached: ['vol-a', 'vol-c'],
      detached: ['vol-b'],
    });
    expect(planGroup([vol('vol-a'), vol('vol-b')])).toEqual({ attached: [], detached: ['vol-a', 'vol-b'] });
  });

  it('uses the instance a Multi-Attach volume shares with the others', () => {
    expect(planGroup([vol('vol-a', 'i-1', 'i-2'), vol('vol-b', 'i-2')])).toMatchObject({ instanceId: 'i-2', attached: ['vol-a', 'vol-b'] });
  });

  it('ignores detached attachment records', () => {
    const v: VolumeInfo = { ...base, id: 'vol-a', attachments: [{ instanceId: 'i-9', device: '/dev/xvdba', state: 'detached' }] };
    expect(planGroup([v, vol('vol-b', 'i-1')])).toEqual({ instanceId: 'i-1', attached: ['vol-b'], detached: ['vol-a'] });
  });

  it('refuses volumes written by different instances, naming them', () => {
    expect(() => planGroup([vol('vol-a', 'i-1'), vol('vol-b', 'i-2')])).toThrow(/vol-a on i-1, vol-b on i-2/);
    expect(() => planGroup([vol('vol-a', 'i-1'), vol('vol-b', 'i-2')])).toThrow(expect.objectContaining({ kind: 'FailedPrecondition' }));
  });
});

describe('toGroupSnapshot', () => {
  it('is ready only when every member is, and dated by its first member', () => {
    const g = toGroupSnapshot('groupsnap-1', [
      snap('snap-2', 'vol-b', 'pending', '2026-01-02T00:00:00Z'),
      snap('snap-1', 'vol-a', 'completed', '2026-01-01T00:00:00Z'),
    ]);
    expect(g.readyToUse).toBe(false);
    expect(g.creationTime).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(g.snapshots.map((s) => [s.snapshotId, s.sourceVolumeId, s.groupSnapshotId, s.sizeBytes])).toEqual([
      ['snap-1', 'vol-a', 'groupsnap-1', 2 * 1024 ** 3],
      ['snap-2', 'vol-b', 'groupsnap-1', 2 * 1024 ** 3],
    ]);
    expect(toGroupSnapshot('g', [snap('snap-1', 'vol-a', 'completed', '2026-01-01T00:00:00Z')]).readyToUse).toBe(true);
  });
});

describe('parseGroupParams', () => {
  it('takes tagSpecification_N and the sidecar metadata as tags, and nothing else', () => {
    expect(parseGroupParams({ tagSpecification_1: 'team=db', 'csi.storage.k8s.io/volumegroupsnapshot/name': 'nightly' })).toEqual({
      team: 'db',
      'kubernetes.io/created-for/volumegroupsnapshot/name': 'nightly',
    });
    expect(() => parseGroupParams({ type: 'gp3' })).toThrow(/unknown parameter "type"/);
    expect(() => parseGroupParams({ tagSpecification_1: 'plinth.dev/x=1' })).toThrow(/reserved/);
  });
});
