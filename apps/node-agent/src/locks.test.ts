import { describe, expect, it } from 'vitest';
import { VolumeLocks } from './locks.js';

describe('VolumeLocks', () => {
  it('rejects a second operation on a busy volume but runs other volumes concurrently', async () => {
    const locks = new VolumeLocks();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = locks.with('vol-1', 'stage', () => gate);
    await expect(locks.with('vol-1', 'publish', () => Promise.resolve())).rejects.toMatchObject({
      kind: 'Aborted',
      message: expect.stringContaining('stage') as unknown,
    });
    await expect(locks.with('vol-2', 'stage', () => Promise.resolve(7))).resolves.toBe(7);
    release();
    await first;
    await expect(locks.with('vol-1', 'publish', () => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
