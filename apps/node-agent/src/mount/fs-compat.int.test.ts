/** `mountableAs` against the kernel: every pair it accepts mounts with `mount -t <requested>`, every pair it refuses does not. */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeHost, detachAll, type FakeHost } from '../../../../test/support/nvme.js';
import { mountableAs } from './fs-compat.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

describe('which filesystems the kernel mounts under another type (the table aws-ebs-csi-driver ends up with)', () => {
  let host: FakeHost;
  beforeAll(async () => {
    host = await createFakeHost();
  });
  afterAll(async () => {
    await host?.cleanup();
    await detachAll();
  });

  it.each(['ext2', 'ext3', 'ext4', 'xfs'])('a volume holding %s mounts as exactly the types mountableAs names', async (existing) => {
    // xfs needs 300 MiB; the file is sparse.
    const loop = await host.loop(320 * MiB);
    await exec(`mkfs.${existing}`, existing === 'xfs' ? ['-q', loop.path] : ['-q', '-F', loop.path], { timeout: 60_000 });
    const point = join(host.root, `m-${existing}`);
    await mkdir(point);
    const mounted: Record<string, boolean> = {};
    for (const requested of ['ext4', 'ext3', 'xfs'] as const) {
      mounted[requested] = await exec('mount', ['-t', requested, loop.path, point], { timeout: 60_000 }).then(
        () => true,
        () => false,
      );
      if (mounted[requested]) await exec('umount', [point], { timeout: 60_000 });
    }
    expect(mounted).toEqual({ ext4: mountableAs(existing, 'ext4'), ext3: mountableAs(existing, 'ext3'), xfs: mountableAs(existing, 'xfs') });
  });
});
