import type { VolumeInfo, VolumeStatusInfo } from '@plinth/cloud';
import { VolumeHealthErrorType as Health } from '@plinth/csi';
import { describe, expect, it } from 'vitest';
import { volumeHealth } from './volume-health.js';

const ID = 'vol-0123456789abcdef0';
const vol = (state: string, over: Partial<VolumeInfo> = {}): VolumeInfo => ({
  id: ID,
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
  volumeId: ID,
  status,
  details: details.map(([name, s]) => ({ name, status: s })),
  events: [],
  actions: [],
  ...more,
});
const NOW = 1_000_000_000;
const opts = { now: NOW, stuckAttachMs: 90_000 };
const statusesOf = (v: VolumeInfo, c: Parameters<typeof volumeHealth>[1]) => volumeHealth(v, c, opts).healthStatuses.map((e) => [e.status, e.reason]);

describe('volumeHealth', () => {
  it('reports nothing wrong for a volume whose checks pass, are still running, or cannot be had', () => {
    const ok = checks('ok', [
      ['io-enabled', 'passed'],
      ['io-performance', 'normal'],
    ]);
    expect(volumeHealth(vol('in-use'), ok, opts)).toEqual({ volumeId: ID, healthStatuses: [] });
    expect(statusesOf(vol('available'), checks('insufficient-data'))).toEqual([]);
    expect(statusesOf(vol('available'), 'unavailable')).toEqual([]);
    expect(statusesOf(vol('creating'), undefined)).toEqual([]);
  });

  it('is INACCESSIBLE when EC2 disabled I/O, naming its event and suggested action', () => {
    const h = volumeHealth(
      vol('in-use'),
      checks('impaired', [['io-enabled', 'failed']], {
        events: [{ type: 'potential-data-inconsistency', description: 'I/O disabled' }],
        actions: [{ code: 'enable-volume-io', description: 'Enable volume I/O' }],
      }),
      opts,
    );
    expect(h.healthStatuses).toEqual([
      {
        status: Health.INACCESSIBLE,
        reason: 'IoDisabled',
        message: `EC2 disabled I/O to ${ID} after a suspected data inconsistency (event potential-data-inconsistency: I/O disabled; action enable-volume-io: Enable volume I/O)`,
      },
    ]);
  });

  it('is INACCESSIBLE when I/O stalls, DEGRADED when performance is degraded, and keeps a bare impaired or warning status', () => {
    expect(statusesOf(vol('in-use'), checks('impaired', [['io-performance', 'stalled']]))).toEqual([[Health.INACCESSIBLE, 'IoStalled']]);
    expect(statusesOf(vol('in-use'), checks('warning', [['io-performance', 'degraded']]))).toEqual([[Health.DEGRADED, 'IoPerformanceDegraded']]);
    expect(statusesOf(vol('in-use'), checks('impaired', [['io-performance', 'severely-degraded']]))).toEqual([[Health.DEGRADED, 'IoPerformanceDegraded']]);
    expect(statusesOf(vol('in-use'), checks('impaired'))).toEqual([[Health.INACCESSIBLE, 'StatusImpaired']]);
    expect(statusesOf(vol('in-use'), checks('warning'))).toEqual([[Health.DEGRADED, 'StatusWarning']]);
    // Two problems at once are two entries.
    expect(
      statusesOf(
        vol('in-use'),
        checks('impaired', [
          ['io-enabled', 'failed'],
          ['io-performance', 'degraded'],
        ]),
      ),
    ).toEqual([
      [Health.INACCESSIBLE, 'IoDisabled'],
      [Health.DEGRADED, 'IoPerformanceDegraded'],
    ]);
  });

  it('is DATA_LOSS in the error state and INACCESSIBLE while being deleted', () => {
    const h = volumeHealth(vol('error'), checks('ok'), opts);
    expect(h.healthStatuses).toEqual([
      { status: Health.DATA_LOSS, reason: 'VolumeError', message: expect.stringContaining('restore it from a snapshot') as string },
    ]);
    expect(statusesOf(vol('deleting'), undefined)).toEqual([[Health.INACCESSIBLE, 'VolumeDeleting']]);
  });

  it('reports a busy attachment, and one attaching past the stuck-attach timeout (not one within it)', () => {
    const at = (ago: number) => new Date(NOW - ago);
    const busy = vol('in-use', { attachments: [{ instanceId: 'i-1', device: '/dev/xvdaa', state: 'busy' }] });
    expect(volumeHealth(busy, checks('ok'), opts).healthStatuses).toEqual([
      { status: Health.DEGRADED, reason: 'AttachmentBusy', message: expect.stringContaining('i-1') as string },
    ]);
    const stuck = vol('in-use', { attachments: [{ instanceId: 'i-2', device: '/dev/xvdab', state: 'attaching', attachedAt: at(90_001) }] });
    expect(statusesOf(stuck, checks('ok'))).toEqual([[Health.INACCESSIBLE, 'AttachmentStuck']]);
    const young = vol('in-use', { attachments: [{ instanceId: 'i-2', device: '/dev/xvdab', state: 'attaching', attachedAt: at(89_999) }] });
    expect(statusesOf(young, checks('ok'))).toEqual([]);
  });
});
