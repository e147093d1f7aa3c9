import { describe, expect, it } from 'vitest';
import { categoryOf, TokenBucket } from './buckets.js';
import { Transitions } from './transitions.js';
import { setOwnField, topLevelItems } from './xml.js';

// Shapes as LocalStack/moto answer them.
const vol = (id: string, status: string, attachments = '<attachmentSet/>') =>
  `<item><volumeType>gp3</volumeType><volumeId>${id}</volumeId><size>1</size><availabilityZone>us-east-1a</availabilityZone><status>${status}</status>${attachments}<encrypted>false</encrypted></item>`;
const att = (id: string, inst: string, status: string) =>
  `<attachmentSet><item><volumeId>${id}</volumeId><instanceId>${inst}</instanceId><device>/dev/xvdaa</device><status>${status}</status><attachTime>t</attachTime></item></attachmentSet>`;
const describe_ = (...items: string[]) =>
  `<?xml version="1.0"?><DescribeVolumesResponse><volumeSet>${items.join('')}</volumeSet><requestId>r</requestId></DescribeVolumesResponse>`;
const p = (o: Record<string, string>) => new URLSearchParams(o);

describe('xml surgery', () => {
  it('finds top-level items only and edits their own fields, not nested ones', () => {
    const xml = describe_(vol('vol-1', 'in-use', att('vol-1', 'i-1', 'attached')), vol('vol-2', 'available'));
    const items = topLevelItems(xml, 'volumeSet');
    expect(items.map((i) => i.text.slice(0, 40))).toHaveLength(2);
    const edited = setOwnField(items[0]!.text, 'status', 'creating');
    expect(edited).toContain('<status>creating</status>');
    expect(edited).toContain('<status>attached</status>');
  });
});

describe('Transitions', () => {
  it('reports creating, then available once the delay has passed, and refuses attach meanwhile', () => {
    const t = new Transitions({ createMs: 1000, attachMs: 0, detachMs: 0, modifyMs: 0, snapshotMs: 0 });
    t.observe('CreateVolume', p({}), '<CreateVolumeResponse><volumeId>vol-1</volumeId></CreateVolumeResponse>', 0);
    expect(t.rewriteDescribeVolumes(describe_(vol('vol-1', 'available')), 500)).toContain('<status>creating</status>');
    expect(t.refusal('AttachVolume', p({ VolumeId: 'vol-1' }), 500)?.code).toBe('IncorrectState');
    expect(t.rewriteDescribeVolumes(describe_(vol('vol-1', 'available')), 1001)).toContain('<status>available</status>');
    expect(t.refusal('AttachVolume', p({ VolumeId: 'vol-1' }), 1001)).toBeUndefined();
    expect(t.rewriteAnswer('CreateVolume', '<CreateVolumeResponse><status>available</status></CreateVolumeResponse>')).toContain('<status>creating</status>');
  });

  it('shows attaching, and a detaching attachment that LocalStack already dropped', () => {
    const t = new Transitions({ createMs: 0, attachMs: 1000, detachMs: 1000, modifyMs: 0, snapshotMs: 0 });
    t.observe(
      'AttachVolume',
      p({ VolumeId: 'vol-1' }),
      '<AttachVolumeResponse><volumeId>vol-1</volumeId><instanceId>i-1</instanceId></AttachVolumeResponse>',
      0,
    );
    expect(t.rewriteDescribeVolumes(describe_(vol('vol-1', 'in-use', att('vol-1', 'i-1', 'attached'))), 10)).toContain('<status>attaching</status>');
    t.observe(
      'DetachVolume',
      p({ VolumeId: 'vol-1' }),
      '<DetachVolumeResponse><volumeId>vol-1</volumeId><instanceId>i-1</instanceId><device>/dev/xvdaa</device><attachTime>t</attachTime></DetachVolumeResponse>',
      2000,
    );
    const during = t.rewriteDescribeVolumes(describe_(vol('vol-1', 'available')), 2500);
    expect(during).toContain('<status>in-use</status>');
    expect(during).toContain('<instanceId>i-1</instanceId><device>/dev/xvdaa</device><status>detaching</status>');
    expect(t.refusal('DeleteVolume', p({ VolumeId: 'vol-1' }), 2500)?.code).toBe('VolumeInUse');
    // LocalStack spells the empty set with a space.
    const ls = t.rewriteDescribeVolumes(describe_(vol('vol-1', 'available', '<attachmentSet />')), 2500);
    expect(ls).toContain('<status>detaching</status>');
    expect(t.rewriteDescribeVolumes(describe_(vol('vol-1', 'available')), 3001)).not.toContain('detaching');
  });
});

describe('Transitions of a modification', () => {
  const mod = (id: string, start: string) =>
    `<item><volumeId>${id}</volumeId><modificationState>completed</modificationState><targetSize>2</targetSize><progress>100</progress><startTime>${start}</startTime><endTime>${start}</endTime></item>`;
  const mods = (...items: string[]) =>
    `<DescribeVolumesModificationsResponse><volumeModificationSet>${items.join('')}</volumeModificationSet></DescribeVolumesModificationsResponse>`;

  it('shows the latest modification as modifying during the delay and refuses another meanwhile', () => {
    const t = new Transitions({ createMs: 0, attachMs: 0, detachMs: 0, modifyMs: 1000, snapshotMs: 0 });
    t.observe(
      'ModifyVolume',
      p({ VolumeId: 'vol-1' }),
      '<ModifyVolumeResponse><volumeModification><volumeId>vol-1</volumeId></volumeModification></ModifyVolumeResponse>',
      0,
    );
    const during = t.rewriteDescribeModifications(mods(mod('vol-1', 'a'), mod('vol-2', 'b'), mod('vol-1', 'c')), 500);
    const [first, other, last] = topLevelItems(during, 'volumeModificationSet').map((i) => i.text);
    expect(first).toContain('<modificationState>completed</modificationState>');
    expect(other).toContain('<modificationState>completed</modificationState>');
    expect(last).toContain('<modificationState>modifying</modificationState><targetSize>2</targetSize><progress>0</progress>');
    expect(last).not.toContain('endTime');
    expect(t.refusal('ModifyVolume', p({ VolumeId: 'vol-1' }), 500)?.code).toBe('IncorrectModificationState');
    expect(t.rewriteDescribeModifications(mods(mod('vol-1', 'c')), 1001)).toContain('<modificationState>completed</modificationState>');
    expect(t.refusal('ModifyVolume', p({ VolumeId: 'vol-1' }), 1001)).toBeUndefined();
  });
});

describe('EC2 buckets', () => {
  it('classifies actions as EC2 does', () => {
    expect(categoryOf('CreateVolume', p({}))).toBe('mutating');
    expect(categoryOf('DescribeVolumes', p({ 'Filter.1.Name': 'volume-id' }))).toBe('describe');
    expect(categoryOf('DescribeVolumes', p({}))).toBe('describeUnfiltered');
    expect(categoryOf('RunInstances', p({}))).toBe('resourceIntensive');
  });

  it('allows a burst, then refills at its rate', () => {
    const b = new TokenBucket({ capacity: 3, refillPerSecond: 2 }, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(400)).toBe(false);
    expect(b.take(500)).toBe(true);
  });
});
