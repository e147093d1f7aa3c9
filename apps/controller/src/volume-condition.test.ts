import type { VolumeInfo, VolumeStatusInfo } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { publishedNodeIds, volumeCondition } from './volume-condition.js';

const vol = (state: string, over: Partial<VolumeInfo> = {}): VolumeInfo => ({
  id: 'vol-0123456789abcdef0',
  state,
  sizeGiB: 1,
  type: 'gp3',
  encrypted: false,
  zone: 'us-east-1a',
  attachments: [],
  tags: {},
  multiAttach: false,
  ...over,
});
const checks = (status: string, details: [string, string][] = [], more: Partial<VolumeStatusInfo> = {}): VolumeStatusInfo => ({
  volumeId: 'vol-0123456789abcdef0',
  status,
  details: details.map(([name, s]) => ({ name, status: s })),
  events: [],
  actions: [],
  ...more,
});

describe('volumeCondition', () => {
  it('is normal for a volume whose status checks pass', () => {
    const c = volumeCondition(
      vol('in-use'),
      checks('ok', [
        ['io-enabled', 'passed'],
        ['io-performance', 'not-applicable'],
      ]),
    );
    expect(c).toEqual({ abnormal: false, message: 'vol-0123456789abcdef0 is in-use; EC2 status checks ok' });
  });

  it('is abnormal when EC2 disabled I/O, naming the failed check, the event and the action', () => {
    const c = volumeCondition(
      vol('in-use'),
      checks('impaired', [['io-enabled', 'failed']], {
        events: [{ type: 'potential-data-inconsistency', description: 'THIS IS AN AUTOMATED EVENT. I/O disabled.' }],
        actions: [{ code: 'enable-volume-io', description: 'Enable volume I/O' }],
      }),
    );
    expect(c.abnormal).toBe(true);
    expect(c.message).toBe(
      'EC2 status check of vol-0123456789abcdef0: impaired (io-enabled failed; event potential-data-inconsistency: THIS IS AN AUTOMATED EVENT. I/O disabled.; action enable-volume-io: Enable volume I/O)',
    );
  });

  it('is abnormal for stalled or degraded I/O and for a failed detail under any status', () => {
    const stalled = volumeCondition(vol('in-use'), checks('impaired', [['io-performance', 'stalled']]));
    expect(stalled.abnormal).toBe(true);
    expect(stalled.message).toContain('io-performance stalled');
    const degraded = volumeCondition(vol('in-use'), checks('warning', [['io-performance', 'degraded']]));
    expect(degraded.abnormal).toBe(true);
    expect(degraded.message).toContain('warning, performance degraded (io-performance degraded)');
    expect(volumeCondition(vol('available'), checks('ok', [['io-enabled', 'failed']])).abnormal).toBe(true);
  });

  it('is abnormal in the error state and while being deleted, whatever the checks say', () => {
    const error = volumeCondition(vol('error'), checks('ok'));
    expect(error.abnormal).toBe(true);
    expect(error.message).toContain('error state');
    const deleting = volumeCondition(vol('deleting'), undefined);
    expect(deleting.abnormal).toBe(true);
    expect(deleting.message).toContain('being deleted');
  });

  it('is normal while checks are still running, while being created, and where the endpoint has no checks', () => {
    const running = volumeCondition(vol('available'), checks('insufficient-data'));
    expect(running.abnormal).toBe(false);
    expect(running.message).toContain('insufficient-data');
    expect(volumeCondition(vol('creating'), undefined)).toEqual({ abnormal: false, message: 'vol-0123456789abcdef0 is creating' });
    expect(volumeCondition(vol('available'), 'unavailable')).toEqual({
      abnormal: false,
      message: 'vol-0123456789abcdef0 is available (this EC2 endpoint has no volume status checks)',
    });
    expect(volumeCondition(vol('available'), undefined).message).toContain('no status checks');
  });
});

describe('publishedNodeIds', () => {
  it('lists every instance the volume is attached to, attaching to or detaching from, once', () => {
    const v = vol('in-use', {
      attachments: [
        { instanceId: 'i-1', device: '/dev/xvdba', state: 'attached' },
        { instanceId: 'i-2', device: '/dev/xvdbb', state: 'attaching' },
        { instanceId: 'i-3', device: '/dev/xvdbc', state: 'detaching' },
        { instanceId: 'i-4', device: '/dev/xvdbd', state: 'detached' },
        { instanceId: 'i-1', device: '/dev/xvdba', state: 'attached' },
      ],
    });
    expect(publishedNodeIds(v)).toEqual(['i-1', 'i-2', 'i-3']);
    expect(publishedNodeIds(vol('available'))).toEqual([]);
  });
});
