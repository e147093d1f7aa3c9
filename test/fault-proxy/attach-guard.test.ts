import { describe, expect, it } from 'vitest';
import { AttachGuard } from './attach-guard.js';

/** A DescribeVolumes answer for one volume, shaped as EC2's query API writes it. */
const describe1 = (volumeId: string, attachments: { instanceId: string; status: string }[], multiAttach = false) =>
  `<DescribeVolumesResponse><volumeSet><item><volumeId>${volumeId}</volumeId><size>1</size><status>${attachments.length ? 'in-use' : 'available'}</status>` +
  `<attachmentSet>${attachments.map((a) => `<item><volumeId>${volumeId}</volumeId><instanceId>${a.instanceId}</instanceId><device>/dev/xvdba</device><status>${a.status}</status></item>`).join('')}</attachmentSet>` +
  `<multiAttachEnabled>${multiAttach}</multiAttachEnabled></item></volumeSet></DescribeVolumesResponse>`;

describe('AttachGuard: AttachVolume refused as EC2 refuses it', () => {
  it('lets an unattached volume attach, and refuses a second attach while the first is in flight', () => {
    const g = new AttachGuard();
    expect(g.check('vol-1', 'i-a', describe1('vol-1', []))).toBeUndefined();
    expect(g.check('vol-1', 'i-b', describe1('vol-1', []))).toEqual({ code: 'VolumeInUse', message: 'vol-1 is already attached to an instance' });
    g.settled('vol-1', 'i-a');
    expect(g.check('vol-1', 'i-b', describe1('vol-1', []))).toBeUndefined();
  });

  it('refuses a volume attached or attaching anywhere, to the same instance too', () => {
    const g = new AttachGuard();
    expect(g.check('vol-1', 'i-b', describe1('vol-1', [{ instanceId: 'i-a', status: 'attached' }]))?.code).toBe('VolumeInUse');
    expect(g.check('vol-1', 'i-a', describe1('vol-1', [{ instanceId: 'i-a', status: 'attaching' }]))?.code).toBe('VolumeInUse');
    expect(g.check('vol-1', 'i-b', describe1('vol-1', [{ instanceId: 'i-a', status: 'detached' }]))).toBeUndefined();
  });

  it('lets a Multi-Attach volume attach to another instance, not twice to one', () => {
    const g = new AttachGuard();
    expect(g.check('vol-1', 'i-b', describe1('vol-1', [{ instanceId: 'i-a', status: 'attached' }], true))).toBeUndefined();
    g.settled('vol-1', 'i-b');
    expect(g.check('vol-1', 'i-a', describe1('vol-1', [{ instanceId: 'i-a', status: 'attached' }], true))?.code).toBe('VolumeInUse');
  });

  it('lets two attaches of a Multi-Attach volume to different instances be in flight at once, not two to one instance', () => {
    const g = new AttachGuard();
    const none = describe1('vol-1', [], true);
    expect(g.check('vol-1', 'i-a', none)).toBeUndefined();
    expect(g.check('vol-1', 'i-b', none)).toBeUndefined();
    expect(g.check('vol-1', 'i-a', none)?.code).toBe('VolumeInUse');
    g.settled('vol-1', 'i-a');
    expect(g.check('vol-1', 'i-a', none)).toBeUndefined();
  });
});
