import { describe, expect, it } from 'vitest';
import { StuckAttachments } from './stuck.js';

const volume = (id: string, att: string) =>
  `<item><volumeId>${id}</volumeId><status>in-use</status><attachmentSet><item><volumeId>${id}</volumeId><instanceId>i-1</instanceId><device>/dev/xvdba</device><status>${att}</status></item></attachmentSet></item>`;
const answer = (...items: string[]) => `<DescribeVolumesResponse><volumeSet>${items.join('')}</volumeSet></DescribeVolumesResponse>`;

describe('stuck attachments', () => {
  it('reports a picked attachment attaching until a DetachVolume, and sticks each volume once', () => {
    const s = new StuckAttachments();
    s.attached('vol-b', 0.5);
    s.attached('vol-a', 0.5);
    const xml = answer(volume('vol-a', 'attached'), volume('vol-b', 'attached'));
    expect(s.rewriteDescribeVolumes(xml)).toBe(answer(volume('vol-a', 'attaching'), volume('vol-b', 'attached')));
    expect(s.count).toBe(1);
    s.detaching('vol-a', true);
    expect(s.forceDetaches).toBe(1);
    expect(s.rewriteDescribeVolumes(xml)).toBe(xml);
    s.attached('vol-a', 1);
    expect(s.rewriteDescribeVolumes(xml)).toBe(xml);
  });

  it('sticks the share asked for, evenly, and nothing at share 0', () => {
    const s = new StuckAttachments();
    for (let i = 0; i < 100; i++) s.attached(`vol-${i}`, 0.3);
    expect(s.count).toBe(30);
    const none = new StuckAttachments();
    for (let i = 0; i < 10; i++) none.attached(`vol-${i}`, 0);
    expect(none.count).toBe(0);
  });
});
