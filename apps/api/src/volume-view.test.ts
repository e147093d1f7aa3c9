import { describe, expect, it } from 'vitest';
import { matches, page, summary } from './volume-view.js';

const vol = (n: number) =>
  summary({
    id: `vol-${n.toString(16).padStart(17, '0')}`,
    zone: n % 2 ? 'us-east-1a' : 'us-east-1b',
    type: 'gp3',
    sizeGiB: n,
    state: n % 3 ? 'available' : 'in-use',
    encrypted: false,
    multiAttach: false,
    tags: { CSIVolumeName: `pvc-${n}`, 'kubernetes.io/created-for/pvc/namespace': n < 5 ? 'db' : 'web', 'kubernetes.io/created-for/pvc/name': `data-${n}` },
    attachments: n % 3 ? [] : [{ instanceId: 'i-0123456789abcdef0', device: '/dev/xvdaa', state: 'attached' }],
  });

describe('volume summaries and filters', () => {
  const all = Array.from({ length: 10 }, (_, i) => vol(i + 1));

  it('reads the CSI name and PVC from the tags', () => {
    expect(all[0]).toMatchObject({ name: 'pvc-1', pvc: { namespace: 'db', name: 'data-1' }, sizeGiB: 1, zone: 'us-east-1a' });
  });

  it('filters by zone, state, node and PVC', () => {
    expect(all.filter((s) => matches(s, { zone: 'us-east-1b' })).map((s) => s.sizeGiB)).toEqual([2, 4, 6, 8, 10]);
    expect(all.filter((s) => matches(s, { node: 'i-0123456789abcdef0' })).map((s) => s.sizeGiB)).toEqual([3, 6, 9]);
    expect(all.filter((s) => matches(s, { state: 'in-use', zone: 'us-east-1a' })).map((s) => s.sizeGiB)).toEqual([3, 9]);
    expect(all.filter((s) => matches(s, { pvcNamespace: 'db', pvcName: 'data-2' })).map((s) => s.sizeGiB)).toEqual([2]);
  });

  it('pages by id with a cursor until the last page', () => {
    const p1 = page(all, {}, 4);
    expect(p1.items.map((s) => s.sizeGiB)).toEqual([1, 2, 3, 4]);
    expect(p1.total).toBe(10);
    const p2 = page(all, {}, 4, p1.nextCursor!);
    expect(p2.items.map((s) => s.sizeGiB)).toEqual([5, 6, 7, 8]);
    const p3 = page(all, {}, 4, p2.nextCursor!);
    expect(p3.items.map((s) => s.sizeGiB)).toEqual([9, 10]);
    expect(p3.nextCursor).toBeNull();
    expect(page(all, {}, 4, 'vol-fffffffffffffffff').items).toEqual([]);
  });
});

describe('volume health in the summaries', () => {
  const base = {
    zone: 'us-east-1a',
    type: 'gp3',
    sizeGiB: 1,
    state: 'in-use',
    encrypted: false,
    multiAttach: false,
    tags: {},
    attachments: [],
  };
  const impaired = { volumeId: 'vol-00000000000000001', status: 'impaired', details: [{ name: 'io-enabled', status: 'failed' }], events: [], actions: [] };

  it('carries what EC2 says is wrong, and filters healthy or unhealthy volumes', () => {
    const sick = summary({ ...base, id: 'vol-00000000000000001' }, impaired);
    const well = summary({ ...base, id: 'vol-00000000000000002' }, { ...impaired, volumeId: 'vol-00000000000000002', status: 'ok', details: [] });
    const unknown = summary({ ...base, id: 'vol-00000000000000003' });
    expect(sick.health).toEqual({
      healthy: false,
      statusCheck: 'impaired',
      problems: [{ status: 'inaccessible', reason: 'IoDisabled', message: expect.stringContaining('disabled I/O') as string }],
    });
    expect(well.health).toEqual({ healthy: true, statusCheck: 'ok', problems: [] });
    expect(unknown.health).toEqual({ healthy: true, statusCheck: null, problems: [] });
    expect(page([sick, well, unknown], { health: 'unhealthy' }, 10).items.map((s) => s.id)).toEqual([sick.id]);
    expect(page([sick, well, unknown], { health: 'healthy' }, 10).items.map((s) => s.id)).toEqual([well.id, unknown.id]);
  });
});
