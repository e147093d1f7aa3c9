import { createLogger } from '@plinth/logger';
import { describe, expect, it } from 'vitest';
import type { VolumeInfo } from './types.js';
import { VolumeWatcher } from './watcher.js';

const vol = (id: string, state: string): VolumeInfo => ({
  id,
  state,
  sizeGiB: 1,
  type: 'gp3',
  encrypted: false,
  zone: 'z',
  attachments: [],
  tags: {},
  multiAttach: false,
});

const log = createLogger({ name: 'test', level: 'silent' });

describe('VolumeWatcher', () => {
  it('serves every waiting volume with one describe per tick and resolves each when its state arrives', async () => {
    const calls: string[][] = [];
    const states: Record<string, string[]> = { 'vol-a': ['creating', 'available'], 'vol-b': ['creating', 'creating', 'available'] };
    const w = new VolumeWatcher(
      (ids) => {
        calls.push([...ids].sort());
        const out = new Map<string, VolumeInfo>();
        for (const id of ids) {
          const next = states[id]?.shift();
          if (next) out.set(id, vol(id, next));
        }
        return Promise.resolve(out);
      },
      { intervalMs: 5, log },
    );
    const available = (v: VolumeInfo | undefined) => v?.state === 'available';
    const [a, b] = await Promise.all([w.waitFor('vol-a', available, 5000), w.waitFor('vol-b', available, 5000)]);
    expect(a?.id).toBe('vol-a');
    expect(b?.id).toBe('vol-b');
    expect(calls[0]).toEqual(['vol-a', 'vol-b']);
    expect(calls).toHaveLength(3);
    expect(w.waiting).toBe(0);
  });

  it('reports a vanished volume as undefined and times out a stuck one', async () => {
    const w = new VolumeWatcher((ids) => Promise.resolve(new Map(ids.filter((i) => i === 'vol-stuck').map((i) => [i, vol(i, 'creating')]))), {
      intervalMs: 5,
      log,
    });
    await expect(w.waitFor('vol-gone', (v) => v === undefined, 1000)).resolves.toBeUndefined();
    await expect(w.waitFor('vol-stuck', (v) => v?.state === 'available', 30)).rejects.toMatchObject({ kind: 'DeadlineExceeded' });
  });
});
