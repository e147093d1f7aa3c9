import type { NodeUnstageVolumeRequest, NodeUnstageVolumeResponse } from '@plinth/csi';
import { validateHandle } from '../device/node-local.js';
import { unmountAll } from '../os/host-os.js';
import { assertNoEscape, validatePath } from '../paths.js';
import type { NodeContext } from './context.js';

/** Unmounts the staging path; succeeds when it is already unmounted or gone. The directory belongs to kubelet and stays. */
export async function nodeUnstageVolume(ctx: NodeContext, req: NodeUnstageVolumeRequest): Promise<NodeUnstageVolumeResponse> {
  validateHandle(req.volumeId);
  const staging = validatePath('staging_target_path', req.stagingTargetPath, ctx.kubeletRoot);
  await assertNoEscape(ctx.os, 'staging_target_path', staging, ctx.kubeletRoot);
  return ctx.locks.with(req.volumeId, 'NodeUnstageVolume', async () => {
    await unmountAll(ctx.os, staging);
    ctx.log.info({ volumeId: req.volumeId, staging }, 'unstaged');
    return {};
  });
}
