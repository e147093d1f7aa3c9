import { describe, expect, it } from 'vitest';
import { OPERATIONS } from './index.js';

const { createSnapshot, publish, createGroupSnapshot, deleteGroupSnapshot, deleteVolume, modifyVolume } = OPERATIONS;

describe('controller operations', () => {
  it('have one job name each', () => {
    const names = Object.values(OPERATIONS).map((op) => op.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('key and lease publish by volume and node, and refuse a concurrent publish with another capability', () => {
    const mine = { volumeId: 'vol-1', nodeId: 'i-1', accessMode: '1', readonly: false };
    expect(publish.key(mine)).toBe('vol-1:i-1');
    expect(publish.locks(mine)).toEqual(['volume:vol-1']);
    expect(publish.conflicts(mine, { ...mine })).toEqual([]);
    expect(publish.conflicts(mine, { ...mine, readonly: true })).toEqual(['readonly false, not true']);
    expect(publish.conflicts(mine, { ...mine, accessMode: '5' })).toEqual(['access mode "1", not "5"']);
  });

  it('refuse a concurrent snapshot of one name from another volume', () => {
    const params = { tags: {}, fastRestoreZones: [], metadataTags: {} };
    const mine = { name: 'snap-a', sourceVolumeId: 'vol-1', params };
    expect(createSnapshot.conflicts(mine, { ...mine, params: { ...params, tags: { a: 'b' } } })).toEqual([]);
    expect(createSnapshot.conflicts(mine, { ...mine, sourceVolumeId: 'vol-2' })).toEqual(['source volume "vol-1", not "vol-2"']);
    expect(createSnapshot.locks(mine)).toEqual(['snapshot-name:snap-a', 'volume:vol-1']);
  });

  it('refuse a concurrent group snapshot of one name over other volumes', () => {
    const mine = { name: 'g', groupId: 'groupsnap-x', volumeIds: ['vol-1', 'vol-2'], tags: {} };
    expect(createGroupSnapshot.conflicts(mine, { ...mine })).toEqual([]);
    expect(createGroupSnapshot.conflicts(mine, { ...mine, volumeIds: ['vol-1'] })).toEqual(['source volumes ["vol-1","vol-2"], not ["vol-1"]']);
    expect(deleteGroupSnapshot.conflicts({ groupId: 'g', snapshotIds: ['snap-1'] }, { groupId: 'g', snapshotIds: [] })).toHaveLength(1);
  });

  it('let deletes and modifications join whatever is in flight for their key', () => {
    expect(deleteVolume.conflicts({ volumeId: 'vol-1' }, { volumeId: 'vol-1' })).toEqual([]);
    expect(modifyVolume.conflicts({ volumeId: 'vol-1' }, { volumeId: 'vol-1' })).toEqual([]);
  });

  it('refuse job data that does not fit the operation', () => {
    expect(publish.data.safeParse({ volumeId: 'vol-1', nodeId: 'i-1' }).success).toBe(false);
    expect(deleteVolume.data.safeParse({ volumeId: 'vol-1' }).success).toBe(true);
  });
});
