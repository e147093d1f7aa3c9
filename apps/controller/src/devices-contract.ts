import { expect, it } from 'vitest';
import type { DeviceNames } from './devices.js';

/** What DeviceAllocator (Redis) and MemoryDeviceNames must both do; run by devices.test.ts and devices.int.test.ts. */
export function deviceNamesContract(make: () => Promise<DeviceNames> | DeviceNames): void {
  const node = () => `i-${Math.random().toString(16).slice(2, 10)}`;

  it('hands out the first name the instance does not use, and the same one again to the same volume', async () => {
    const d = await make();
    const i = node();
    expect(await d.allocate(i, 'vol-1', ['/dev/xvda', 'xvdaa'])).toBe('/dev/xvdab');
    expect(await d.allocate(i, 'vol-1', [])).toBe('/dev/xvdab');
    expect(await d.allocate(i, 'vol-2', ['/dev/sdaa'])).toBe('/dev/xvdac');
    expect(await d.held(i)).toEqual(
      new Map([
        ['/dev/xvdab', 'vol-1'],
        ['/dev/xvdac', 'vol-2'],
      ]),
    );
  });

  it('refuses past the attach limit with RESOURCE_EXHAUSTED naming the node, and frees a name on release', async () => {
    const d = await make();
    const i = node();
    await d.allocate(i, 'vol-1', [], 2);
    await d.allocate(i, 'vol-2', [], 2);
    await expect(d.allocate(i, 'vol-3', [], 2)).rejects.toMatchObject({
      kind: 'ResourceExhausted',
      message: expect.stringContaining(`node ${i} has all 2`) as unknown,
    });
    await d.release(i, 'vol-1');
    expect(await d.allocate(i, 'vol-3', [], 2)).toBe('/dev/xvdaa');
  });

  it('reclaims only stale names of volumes not attached', async () => {
    const d = await make();
    const i = node();
    await d.allocate(i, 'vol-1', []);
    await d.allocate(i, 'vol-2', []);
    expect(await d.reclaim(i, new Set(['vol-1', 'vol-2']), 0, Date.now() + 1000)).toBe(0);
    expect(await d.reclaim(i, new Set(['vol-1']), 60_000)).toBe(0);
    expect(await d.reclaim(i, new Set(['vol-1']), 0, Date.now() + 1000)).toBe(1);
    expect([...(await d.held(i)).values()]).toEqual(['vol-1']);
  });
}
