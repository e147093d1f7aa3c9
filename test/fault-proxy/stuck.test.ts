import { describe, expect, it } from 'vitest';
import { StuckAttachments } from './stuck.js';

const volume = (id: string, att: string) =>
  `<item><volumeId>${id}</volumeId><status>in-use</status><attachmentSet><item><volumeId>${id}</volumeId><instanceId>i-1</instanceId><device>/dev/xvdba</device><status>${att}</status></item></attachmentSet></item>`;
const answer = (...items: string[]) => `<DescribeVolumesResponse><volumeSet>${items.join('')}</volumeSet></DescribeVolumesResponse>`;

describe('stuck attachments', () => {
  it('reports a picked attachment attaching until a DetachVolume, and sticks each volume once', () => {
    const rolls = [0.1, 0.9];
    const s = new StuckAttachments(() => rolls.shift() ?? 0);
    s.attached('vol-a', 0.5);
    s.attached('vol-b', 0.5);
    const xml = answer(volume('vol-a', 'attached'), volume('vol-b', 'attached'));
    expect(s.rewriteDescribeVolumes(xml)).toBe(answer(volume('vol-a', 'attaching'), volume('vol-b', 'attached')));
    expect(s.count).toBe(1);
    s.detaching('vol-a', true);
    expect(s.forceDetaches).toBe(1);
    expect(s.rewriteDescribeVolumes(xml)).toBe(xml);
    s.attached('vol-a', 1);
    expect(s.rewriteDescribeVolumes(xml)).toBe(xml);
  });

  it('sticks nothing at share 0', () => {
    const s = new StuckAttachments(() => 0);
    s.attached('vol-a', 0);
    expect(s.count).toBe(0);
  });
});
