import { failedPrecondition } from '@plinth/errors';
import type { NodeUnpublishVolumeRequest, NodeUnpublishVolumeResponse } from '@plinth/csi';
import { validateHandle } from '../device/node-local.js';
import { unmountAll } from '../os/host-os.js';
import { assertNoEscape, validatePath } from '../paths.js';
import type { NodeContext } from './context.js';

/** Unmounts the target and removes it (a directory, or the file a block volume was bound onto). Safe when already gone. */
export async function nodeUnpublishVolume(ctx: NodeContext, req: NodeUnpublishVolumeRequest): Promise<NodeUnpublishVolumeResponse> {
  const os = ctx.os;
  validateHandle(req.volumeId);
  const target = validatePath('target_path', req.targetPath, ctx.kubeletRoot);
  await assertNoEscape(os, 'target_path', target, ctx.kubeletRoot);
  return ctx.locks.with(req.volumeId, 'NodeUnpublishVolume', async () => {
    await unmountAll(os, target);
    const st = await os.pathInfo(target);
    // Only an empty directory or a plain file is removed: never anything with content.
    if (st?.kind === 'directory') {
      await os.removeDir(target).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOTEMPTY') throw failedPrecondition(`target_path ${target} is not mounted but not empty; left in place`);
        throw e;
      });
    } else if (st?.kind === 'file' && st.size === 0) await os.removeFile(target);
    ctx.log.info({ volumeId: req.volumeId, target }, 'unpublished');
    return {};
  });
}
