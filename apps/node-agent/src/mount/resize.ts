import { internal } from '@plinth/errors';
import { run } from './exec.js';

/** Size of a block device in bytes. */
export async function deviceSize(device: string): Promise<number> {
  const res = await run('blockdev', ['--getsize64', device], { timeoutMs: 10_000 });
  const n = Number(res.stdout.trim());
  if (!Number.isSafeInteger(n)) throw internal(`blockdev --getsize64 ${device} printed "${res.stdout.trim()}"`);
  return n;
}

/** Size of the filesystem in bytes, as its superblock says. */
export async function filesystemSize(fsType: string, device: string, mountPoint: string): Promise<number> {
  if (fsType === 'xfs') {
    const res = await run('xfs_info', [mountPoint], { timeoutMs: 30_000 });
    const m = /^data\s+=\s+bsize=(\d+)\s+blocks=(\d+)/m.exec(res.stdout);
    if (!m) throw internal(`could not read the xfs size of ${mountPoint}`);
    return Number(m[1]) * Number(m[2]);
  }
  const res = await run('dumpe2fs', ['-h', device], { timeoutMs: 30_000 });
  const count = /^Block count:\s+(\d+)/m.exec(res.stdout);
  const size = /^Block size:\s+(\d+)/m.exec(res.stdout);
  if (!count || !size) throw internal(`could not read the ${fsType} size of ${device}`);
  return Number(count[1]) * Number(size[1]);
}

/** Grows a mounted filesystem online to fill its device. */
export async function growFilesystem(fsType: string, device: string, mountPoint: string): Promise<void> {
  if (fsType === 'xfs') await run('xfs_growfs', [mountPoint], { timeoutMs: 10 * 60_000 });
  else await run('resize2fs', [device], { timeoutMs: 10 * 60_000 });
}

/** Slack under which a device is not considered larger than its filesystem (mkfs rounds down). */
export const GROW_SLACK_BYTES = 1024 * 1024;

/** Grows the filesystem when the device is larger; returns true when it grew. */
export async function growIfNeeded(fsType: string, device: string, mountPoint: string): Promise<boolean> {
  const [dev, fs] = await Promise.all([deviceSize(device), filesystemSize(fsType, device, mountPoint)]);
  if (dev - fs <= GROW_SLACK_BYTES) return false;
  await growFilesystem(fsType, device, mountPoint);
  return true;
}
