import type { VolumeInfo } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { GiB } from '../capacity.js';
import { parseVolumeParams } from '../params/volume-params.js';
import { clientToken, createVolumeOperation, incompatibility, requestConflicts, sourceOf, type CreateVolumeJob } from './create-volume.js';

const job = (over: Partial<CreateVolumeJob> = {}): CreateVolumeJob => ({
  name: 'pvc-1',
  sizeGiB: 10,
  requiredBytes: 10 * GiB,
  limitBytes: 0,
  zone: 'us-east-1a',
  allowedZones: [],
  params: parseVolumeParams({}),
  iops: undefined,
  multiAttach: false,
  ...over,
});
const vol = (over: Partial<VolumeInfo> = {}): VolumeInfo => ({
  id: 'vol-1',
  sizeGiB: 10,
  type: 'gp3',
  encrypted: false,
  zone: 'us-east-1a',
  state: 'available',
  attachments: [],
  tags: {},
  multiAttach: false,
  ...over,
});

describe('existing volume compatibility', () => {
  it('accepts a volume that matches the request', () => {
    expect(incompatibility(vol(), job())).toBeUndefined();
  });

  it.each([
    [vol({ sizeGiB: 5 }), job(), 'size 5 GiB'],
    [vol({ sizeGiB: 20 }), job({ limitBytes: 15 * GiB }), 'size 20 GiB'],
    [vol({ type: 'gp2' }), job(), 'type is gp2'],
    [vol({ encrypted: true }), job(), 'encrypted'],
    [vol({ iops: 3000 }), job({ iops: 4000 }), 'IOPS are 3000'],
    [vol({ zone: 'us-east-1b' }), job({ allowedZones: ['us-east-1a'] }), 'zone us-east-1b'],
  ])('names what differs', (v, j, text) => {
    expect(incompatibility(v, j)).toContain(text);
  });

  const tagged = (value: string) => vol({ tags: { 'plinth.dev/content-source': value } });
  it('compares content sources: same source matches, another one, or one against none, does not', () => {
    expect(incompatibility(tagged('snapshot:snap-1'), job({ source: { snapshotId: 'snap-1' } }))).toBeUndefined();
    expect(incompatibility(tagged('volume:vol-9'), job({ source: { volumeId: 'vol-9' } }))).toBeUndefined();
    expect(incompatibility(tagged('snapshot:snap-1'), job({ source: { snapshotId: 'snap-2' } }))).toBe('it was made from snapshot snap-1, not snapshot snap-2');
    expect(incompatibility(tagged('snapshot:snap-1'), job({ source: { volumeId: 'vol-9' } }))).toBe('it was made from snapshot snap-1, not volume vol-9');
    expect(incompatibility(vol(), job({ source: { snapshotId: 'snap-1' } }))).toBe('it was made from no content source, not snapshot snap-1');
    expect(incompatibility(tagged('volume:vol-9'), job())).toBe('it was made from volume vol-9, not no content source');
  });

  it('reads the source of a volume made before the tag from EC2’s own fields, the tag first', () => {
    expect(sourceOf(vol({ snapshotId: 'snap-1' }))).toBe('snapshot:snap-1');
    expect(sourceOf(vol({ sourceVolumeId: 'vol-9' }))).toBe('volume:vol-9');
    expect(sourceOf(vol({ snapshotId: '' }))).toBeUndefined();
    // A clone made through an intermediate snapshot: the tag names the volume, not that snapshot.
    expect(sourceOf({ ...tagged('volume:vol-9'), snapshotId: 'snap-tmp' })).toBe('volume:vol-9');
  });
});

describe('client token', () => {
  it('is stable per name, distinct across names, and fits EC2’s 64 characters', () => {
    expect(clientToken('pvc-1')).toBe(clientToken('pvc-1'));
    expect(clientToken('pvc-1')).not.toBe(clientToken('pvc-2'));
    expect(clientToken('x'.repeat(500))).toHaveLength(64);
  });
});

describe('a request joining an in-flight CreateVolume of the same name', () => {
  it('shares the volume when that volume satisfies it too', () => {
    expect(requestConflicts(job(), job())).toEqual([]);
    // 20 GiB in flight, this call asks at least 10 with no limit: the 20 GiB volume fits.
    expect(requestConflicts(job(), job({ sizeGiB: 20, requiredBytes: 20 * GiB }))).toEqual([]);
  });

  it.each([
    ['a smaller size than required', job({ sizeGiB: 8, requiredBytes: 8 * GiB }), job({ sizeGiB: 4, requiredBytes: 4 * GiB }), 'size 8 GiB, not 4 GiB'],
    ['a size above the limit', job({ limitBytes: 10 * GiB }), job({ sizeGiB: 20 }), 'size 10 GiB, not 20 GiB'],
    ['another type', job({ params: parseVolumeParams({ type: 'io2', iops: '1000' }) }), job(), 'type "io2", not "gp3"'],
    ['no encryption in flight', job({ params: parseVolumeParams({ encrypted: 'true' }) }), job(), 'encrypted true, not false'],
    ['encryption in flight', job(), job({ params: parseVolumeParams({ encrypted: 'true' }) }), 'encrypted false, not true'],
    ['other IOPS', job({ iops: 4000 }), job({ iops: 3000 }), 'iops 4000, not 3000'],
    ['another content source', job({ source: { snapshotId: 'snap-1' } }), job(), 'content source {"snapshotId":"snap-1"}, not unset'],
    ['a zone outside the topology', job({ allowedZones: ['us-east-1b'] }), job(), 'zone one of us-east-1b, not us-east-1a'],
  ])('refuses %s, naming it', (_, mine, theirs, phrase) => {
    expect(requestConflicts(mine, theirs)).toContain(phrase);
  });

  it('carries its data through Redis unchanged', () => {
    const j = job({ params: parseVolumeParams({ type: 'io2', iops: '1000', encrypted: 'true', tagSpecification_1: 'a=b' }), source: { volumeId: 'vol-9' } });
    expect(createVolumeOperation.data.parse(JSON.parse(JSON.stringify(j)))).toEqual(JSON.parse(JSON.stringify(j)));
  });
});
