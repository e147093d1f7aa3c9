import { execFile } from 'node:child_process';
import { lstat, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createFakeHost, detachAll } from './nvme.js';

const exec = promisify(execFile);
const losetupList = async (): Promise<string> => (await exec('losetup', ['-a'])).stdout;

describe('fake NVMe host fixture', () => {
  afterAll(detachAll);

  it('presents a loop device as an EBS NVMe volume, grows it, removes it, and leaves nothing behind', async () => {
    const host = await createFakeHost();
    const loop = await host.loop(16 * 1024 * 1024);
    try {
      const dev = await host.present(loop, { volumeId: 'vol-0123456789abcdef0' });
      expect(dev.name).toBe('nvme1n1');
      expect((await readFile(`${host.sysRoot}/block/nvme1n1/device/serial`, 'utf8')).trim()).toBe('vol0123456789abcdef0');
      expect((await readFile(`${host.sysRoot}/block/nvme1n1/device/model`, 'utf8')).trim()).toBe('Amazon Elastic Block Store');
      expect((await readFile(`${host.sysRoot}/block/nvme1n1/dev`, 'utf8')).trim()).toBe(loop.majMin);
      // The fake node and the real loop device are the same device number.
      const [fake, real] = await Promise.all([stat(dev.devPath), stat(loop.path)]);
      expect(fake.isBlockDevice()).toBe(true);
      expect(fake.rdev).toBe(real.rdev);
      expect(await readlink(dev.byIdPath)).toBe('../../nvme1n1');
      expect(await realpath(dev.byIdPath)).toBe(dev.devPath);

      await loop.grow(32 * 1024 * 1024);
      expect(await loop.size()).toBe(32 * 1024 * 1024);

      await host.remove(dev.name);
      await expect(lstat(dev.devPath)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(lstat(dev.byIdPath)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(lstat(`${host.sysRoot}/block/nvme1n1`)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await host.cleanup();
    }
    expect(await losetupList()).not.toContain(loop.backingFile);
    await expect(lstat(host.root)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
