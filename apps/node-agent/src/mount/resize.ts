import { failedPrecondition, internal } from '@plinth/errors';
import { run } from './exec.js';

/** Size of a block device in bytes. */
export async function deviceSize(device: string): Promise<number> {
  const res = await run('blockdev', ['--getsize64', device], { timeoutMs: 10_000 });
  const n = Number(res.stdout.trim());
  if (!Number.isSafeInteger(n)) throw internal(`blockdev --getsize64 ${device} printed "${res.stdout.trim()}"`);
  return n;
}

/** Size of the filesystem in bytes, as its superblock says (xfs needs its mount point). */
export async function filesystemSize(fsType: string, device: string, mountPoint?: string): Promise<number> {
  if (fsType === 'xfs') {
    const res = await run('xfs_info', [mountPoint ?? device], { timeoutMs: 30_000 });
    const m = /^data\s+=\s+bsize=(\d+)\s+blocks=(\d+)/m.exec(res.stdout);
    if (!m) throw internal(`could not read the xfs size of ${mountPoint ?? device}`);
    return Number(m[1]) * Number(m[2]);
  }
  const res = await run('dumpe2fs', ['-h', device], { timeoutMs: 30_000 });
  const count = /^Block count:\s+(\d+)/m.exec(res.stdout);
  const size = /^Block size:\s+(\d+)/m.exec(res.stdout);
  if (!count || !size) throw internal(`could not read the ${fsType} size of ${device}`);
  return Number(count[1]) * Number(size[1]);
}

/** Slack under which a device is not considered larger than its filesystem (mkfs rounds down). */
export const GROW_SLACK_BYTES = 1024 * 1024;

/**
 * Grows a mounted filesystem online to fill its device. The kernel's ext4
 * online-resize ioctl needs CAP_SYS_RESOURCE; without it resize2fs fails
 * with "Permission denied", which becomes a FAILED_PRECONDITION that says so.
 */
export async function growOnline(fsType: string, device: string, mountPoint: string): Promise<void> {
  if (fsType === 'xfs') {
    await run('xfs_growfs', [mountPoint], { timeoutMs: 10 * 60_000 });
    return;
  }
  await run('resize2fs', [device], {
    timeoutMs: 10 * 60_000,
    onError: (m) =>
      /Permission denied to resize/.test(m)
        ? failedPrecondition(
            `online ${fsType} resize of ${device} was refused by the kernel: the node agent lacks CAP_SYS_RESOURCE (run it privileged); the volume grows at its next stage instead`,
          )
        : internal(m),
  });
}

/**
 * Grows an unmounted ext2/3/4 filesystem to fill its device: a forced
 * preening fsck first (resize2fs requires a freshly checked fs), then resize2fs.
 */
export async function growOffline(device: string): Promise<void> {
  // e2fsck: 0 = clean, 1 = errors fixed; anything else needs a human.
  await run('e2fsck', ['-f', '-p', device], {
    timeoutMs: 10 * 60_000,
    okCodes: [1],
    onError: (m) => failedPrecondition(`the filesystem on ${device} has errors fsck could not fix safely: ${m}`),
  });
  await run('resize2fs', [device], { timeoutMs: 10 * 60_000 });
}
