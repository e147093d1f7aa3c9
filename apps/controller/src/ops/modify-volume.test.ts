import type { VolumeInfo, VolumeModificationInfo } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { satisfies, wasRefused, type VolumeState } from './modify-requests.js';
import { cooldownMessage, inProgressMessage, nextModificationAt, shapeDiff, shapeOf, stateOf, tagDiff } from './modify-volume.js';

const vol: VolumeInfo = {
  id: 'vol-1',
  type: 'gp2',
  sizeGiB: 10,
  iops: 100,
  encrypted: false,
  zone: 'us-east-1a',
  state: 'available',
  attachments: [],
  multiAttach: false,
  tags: { CSIVolumeName: 'pvc-1', tier: 'silver' },
};

describe('what a modify job sends', () => {
  it('ignores the IOPS EC2 reports for types that take no setting', () => {
    expect(shapeOf(vol)).toEqual({ type: 'gp2', sizeGiB: 10, iops: undefined, throughput: undefined });
    expect(() => shapeOf({ ...vol, type: 'gp9' })).toThrow(/type gp9/);
  });

  it('sends only what differs, but carries the asked IOPS and throughput with a new type', () => {
    const gp3 = { type: 'gp3' as const, sizeGiB: 10, iops: 3000, throughput: 125 };
    expect(shapeDiff(gp3, { type: 'gp3', iops: 3000, throughput: 250, sizeGiB: 5 })).toEqual({ throughput: 250 });
    expect(shapeDiff(gp3, { sizeGiB: 20 })).toEqual({ sizeGiB: 20 });
    expect(shapeDiff(gp3, { type: 'gp3', iops: 3000 })).toEqual({});
    expect(shapeDiff({ type: 'io1', sizeGiB: 100, iops: 3000 }, { type: 'io2', iops: 3000 })).toEqual({ type: 'io2', iops: 3000 });
  });

  it('adds only tags that are missing or differ', () => {
    expect(tagDiff(vol, { tags: { tier: 'silver', team: 'db' } })).toEqual({ team: 'db' });
    expect(tagDiff(vol, {})).toEqual({});
  });

  it('counts a change as done when the volume has it (a larger size too)', () => {
    const state: VolumeState = { ...stateOf(vol), sizeGiB: 20 };
    expect(satisfies(state, { sizeGiB: 15, type: 'gp2', tags: { tier: 'silver' } })).toBe(true);
    expect(satisfies(state, { sizeGiB: 21 })).toBe(false);
    expect(satisfies(state, { type: 'gp3' })).toBe(false);
    expect(satisfies(state, { tags: { tier: 'gold' } })).toBe(false);
  });

  it('knows which request a refusal answers', () => {
    const state: VolumeState = {
      ...stateOf(vol),
      refused: { change: { type: 'gp3', iops: 9000 }, error: { kind: 'InvalidArgument', message: 'too many IOPS' } },
    };
    expect(wasRefused(state, { iops: 9000 })).toBe(true);
    expect(wasRefused(state, { type: 'gp3', iops: 9000, tags: { a: 'b' } })).toBe(true);
    expect(wasRefused(state, { iops: 4000 })).toBe(false);
    expect(wasRefused(state, { sizeGiB: 20 })).toBe(false);
    expect(wasRefused(stateOf(vol), { iops: 9000 })).toBe(false);
  });
});

describe("EC2's modification limit", () => {
  const start = new Date('2026-01-10T08:00:00Z');
  const end = new Date('2026-01-10T08:20:00Z');
  const last: VolumeModificationInfo = { volumeId: 'vol-1', state: 'completed', startedAt: start, endedAt: end, progress: 100 };

  it('ends 6 hours after the last modification started, and not before it completed', () => {
    expect(nextModificationAt(last)?.toISOString()).toBe('2026-01-10T14:00:00.000Z');
    expect(nextModificationAt({ ...last, endedAt: new Date('2026-01-10T15:00:00Z') })?.toISOString()).toBe('2026-01-10T15:00:00.000Z');
    expect(nextModificationAt(undefined)).toBeUndefined();
  });

  it('says when the cooldown ends, with EC2’s own words', () => {
    const msg = cooldownMessage('vol-1', last, 'VolumeModificationRateExceeded: Wait at least 6 hours');
    expect(msg).toContain('volume vol-1 cannot be modified again yet');
    expect(msg).toContain('VolumeModificationRateExceeded: Wait at least 6 hours');
    expect(msg).toContain('started at 2026-01-10T08:00:00.000Z and completed at 2026-01-10T08:20:00.000Z');
    expect(msg).toContain('the next one is possible from 2026-01-10T14:00:00.000Z');
  });

  it('says a modification is still optimizing, how far along, and the earliest next one', () => {
    const msg = inProgressMessage('vol-1', { ...last, state: 'optimizing', progress: 40, endedAt: undefined }, 'IncorrectModificationState: busy');
    expect(msg).toContain('(optimizing, 40% done, started at 2026-01-10T08:00:00.000Z)');
    expect(msg).toContain('not before 2026-01-10T14:00:00.000Z');
  });
});
