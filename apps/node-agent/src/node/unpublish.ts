import { lstat, rm, rmdir } from 'node:fs/promises';
import { failedPrecondition } from '@plinth/errors';
import type { NodeUnpublishVolumeRequest, NodeUnpublishVolumeResponse } from '@plinth/csi';
import { validateVolumeId } from '../device/identity.js';
import { unmountAll } from '../mount/mount.js';
import { assertNoEscape, validatePath } from '../paths.js';
import type { NodeContext } from './context.js';

/** Unmounts the target and removes it (a directory, or the file a block volume was bound onto). Safe when already gone. */
export async function nodeUnpublishVolume(ctx: NodeContext, req: NodeUnpublishVolumeRequest): Promise<NodeUnpublishVolumeResponse> {
  validateVolumeId(req.volumeId);
  const target = validatePath('target_path', req.targetPath, ctx.kubeletRoot);
  await assertNoEscape('target_path', target, ctx.kubeletRoot);
  return ctx.locks.with(req.volumeId, 'NodeUnpublishVolume', async () => {
    await unmountAll(target);
    const st = await lstat(target).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    // Only an empty directory or a plain file is removed: never anything with content.
    if (st?.isDirectory()) {
      await rmdir(target).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOTEMPTY') throw failedPrecondition(`target_path ${target} is not mounted but not empty; left in place`);
        throw e;
      });
    }
    else if (st?.isFile() && st.size === 0) await rm(target);
    ctx.log.info({ volumeId: req.volumeId, target }, 'unpublished');
    return {};
  });
}
