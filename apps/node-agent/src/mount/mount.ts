import { failedPrecondition, internal } from '@plinth/errors';
import { mountAt } from './mountinfo.js';
import { run } from './exec.js';

const MOUNT_TIMEOUT_MS = 60_000;

/** Mounts a block device with a filesystem at `target`. */
export async function mountDevice(device: string, target: string, fsType: string, options: string[]): Promise<void> {
  const args = ['-t', fsType];
  if (options.length > 0) args.push('-o', options.join(','));
  args.push(device, target);
  await run('mount', args, { timeoutMs: MOUNT_TIMEOUT_MS, onError: (m) => internal(m) });
}

/** Bind-mounts `source` onto `target`, read-only when asked (util-linux remounts the bind ro in the same call). */
export async function bindMount(source: string, target: string, readOnly: boolean, extra: string[] = []): Promise<void> {
  const opts = ['bind', ...(readOnly ? ['ro'] : []), ...extra];
  await run('mount', ['-o', opts.join(','), source, target], { timeoutMs: MOUNT_TIMEOUT_MS });
  if (readOnly) {
    const m = await mountAt(target);
    if (!m?.mountOptions.includes('ro')) {
      await run('mount', ['-o', 'remount,bind,ro', target], { timeoutMs: MOUNT_TIMEOUT_MS });
    }
  }
}

/** Unmounts the top-most mount at `target`; "not mounted" is a failure like any other. */
export async function unmount(target: string): Promise<void> {
  await run('umount', [target], { timeoutMs: MOUNT_TIMEOUT_MS, onError: (m) => failedPrecondition(m) });
}
