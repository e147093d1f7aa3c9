import { describe, expect, it } from 'vitest';
import { capacityOf, computeCapacity, filterCapacity, largestVolumeGiB, parseQuotaOverrides, quotasGiB, WHOLE_REGION, type VolumeLike } from './index.js';

const vol = (zone: string, type: string, size: number, state = 'available'): VolumeLike => ({ zone, type, sizeGiB: size, state });

describe('quotas', () => {
  it("defaults to EC2's regional EBS storage quotas in GiB", () => {
    const q = quotasGiB();
    expect(q).toMatchObject({ gp3: 51200, gp2: 51200, io1: 51200, io2: 20480, st1: 51200, sc1: 51200, standard: 51200 });
  });

  it('applies overrides per type', () => {
    expect(quotasGiB(parseQuotaOverrides('gp3=102400, io2=100'))).toMatchObject({ gp3: 102400, io2: 100, gp2: 51200 });
  });

  it('rejects malformed overrides and unknown types by name', () => {
    expect(() => parseQuotaOverrides('gp3:100')).toThrow(/bad quota "gp3:100"/);
    expect(() => parseQuotaOverrides('gp9=100')).toThrow(/unknown volume type "gp9"/);
    expect(() => parseQuotaOverrides('gp3=-1')).toThrow(/expected type=GiB/);
    expect(parseQuotaOverrides(undefined)).toEqual({});
  });
});

describe('computeCapacity', () => {
  const quotas = { gp3: 1000, io2: 100 };

  it('sums provisioned GiB and counts per zone and type, and measures the quota regionally', () => {
    const out = computeCapacity([vol('us-east-1a', 'gp3', 100), vol('us-east-1a', 'gp3', 50), vol('us-east-1b', 'gp3', 300), vol('us-east-1a', 'io2', 40)], {
      quotasGiB: quotas,
      types: ['gp3', 'io2'],
    });
    expect(out.map((e) => [e.zone, e.type])).toEqual([
      ['us-east-1a', 'gp3'],
      ['us-east-1a', 'io2'],
      ['us-east-1b', 'gp3'],
      ['us-east-1b', 'io2'],
    ]);
    const a = out[0]!;
    expect(a).toMatchObject({
      provisionedGiB: 150,
      volumeCount: 2,
      quotaGiB: 1000,
      regionProvisionedGiB: 450,
      availableGiB: 550,
      minVolumeGiB: 1,
      maxVolumeGiB: 65536,
      largestVolumeGiB: 550,
    });
    expect(out[3]).toMatchObject({ provisionedGiB: 0, volumeCount: 0, regionProvisionedGiB: 40, availableGiB: 60, minVolumeGiB: 4 });
  });

  it('never reports available below zero, and a type whose minimum does not fit has no room', () => {
    const out = computeCapacity([vol('z1', 'io2', 150)], { quotasGiB: { io2: 102 }, types: ['io2'] });
    expect(out[0]).toMatchObject({ availableGiB: 0, largestVolumeGiB: 0 });
    const tight = computeCapacity([vol('z1', 'io2', 99)], { quotasGiB: { io2: 102 }, types: ['io2'] });
    expect(tight[0]).toMatchObject({ availableGiB: 3, largestVolumeGiB: 0 });
  });

  it('ignores deleted volumes but counts every other state', () => {
    const out = computeCapacity(
      [vol('z1', 'gp3', 10, 'deleted'), vol('z1', 'gp3', 20, 'creating'), vol('z1', 'gp3', 30, 'in-use'), vol('z1', 'gp3', 5, 'deleting')],
      {
        quotasGiB: quotas,
        types: ['gp3'],
      },
    );
    expect(out[0]).toMatchObject({ provisionedGiB: 55, volumeCount: 3 });
  });

  it('reports requested zones with nothing in them, and unknown types without a quota', () => {
    const out = computeCapacity([vol('z2', 'gp4', 10)], { quotasGiB: quotas, zones: ['z1'], types: ['gp3'] });
    expect(out.map((e) => `${e.zone}/${e.type}`)).toEqual(['z1/gp3', 'z1/gp4', 'z2/gp3', 'z2/gp4']);
    expect(out[0]).toMatchObject({ provisionedGiB: 0, availableGiB: 1000 });
    expect(out[3]).toMatchObject({ provisionedGiB: 10, quotaGiB: null, availableGiB: null, maxVolumeGiB: null, largestVolumeGiB: null });
  });

  it('filters by zone and type', () => {
    const out = computeCapacity([vol('z1', 'gp3', 1), vol('z2', 'io2', 4)], { quotasGiB: quotas, types: ['gp3', 'io2'] });
    expect(filterCapacity(out, { zone: 'z2' }).map((e) => e.type)).toEqual(['gp3', 'io2']);
    expect(filterCapacity(out, { type: 'io2' }).map((e) => e.zone)).toEqual(['z1', 'z2']);
    expect(filterCapacity(out, { zone: 'z2', type: 'io2' })).toHaveLength(1);
    expect(filterCapacity(out, {})).toHaveLength(4);
  });
});

describe('capacityOf', () => {
  const vols = [vol('z1', 'gp3', 100), vol('z2', 'gp3', 300), vol('z1', 'io2', 40), vol('z1', 'gp3', 7, 'deleted')];

  it('answers one zone and type, measured against the regional quota', () => {
    expect(capacityOf(vols, { quotasGiB: { gp3: 1000 }, type: 'gp3', zone: 'z1' })).toMatchObject({
      zone: 'z1',
      provisionedGiB: 100,
      regionProvisionedGiB: 400,
      availableGiB: 600,
      largestVolumeGiB: 600,
    });
    expect(capacityOf(vols, { quotasGiB: { gp3: 1000 }, type: 'gp3', zone: 'z9' })).toMatchObject({
      zone: 'z9',
      provisionedGiB: 0,
      volumeCount: 0,
      availableGiB: 600,
    });
  });

  it('answers the whole region when no zone is given', () => {
    expect(capacityOf(vols, { quotasGiB: { gp3: 1000 }, type: 'gp3' })).toMatchObject({
      zone: WHOLE_REGION,
      provisionedGiB: 400,
      volumeCount: 2,
      availableGiB: 600,
    });
    expect(capacityOf([], { quotasGiB: { st1: 100 }, type: 'st1' })).toMatchObject({
      provisionedGiB: 0,
      availableGiB: 100,
      minVolumeGiB: 125,
      largestVolumeGiB: 0,
    });
  });

  it('largestVolumeGiB: capped by the type, 0 when the minimum does not fit', () => {
    expect(largestVolumeGiB(100, 1, 16384)).toBe(100);
    expect(largestVolumeGiB(100_000, 1, 16384)).toBe(16384);
    expect(largestVolumeGiB(124, 125, 16384)).toBe(0);
  });
});
