import type { NodeUnstageVolumeRequest, NodeUnstageVolumeResponse } from '@plinth/csi';
import { validateVolumeId } from '../device/identity.js';
import { unmountAll } from '../mount/mount.js';
import { assertNoEscape, validatePath } from '../paths.js';
import type { NodeContext } from './context.js';

/** Unmounts the staging path; succeeds when it is already unmounted or gone. The directory belongs to kubelet and stays. */
export async function nodeUnstageVolume(ctx: NodeContext, req: NodeUnstageVolumeRequest): Promise<NodeUnstageVolumeResponse> {
  validateVolumeId(req.volumeId);
  const staging = validatePath('staging_target_path', req.stagingTargetPath, ctx.kubeletRoot);
  await assertNoEscape('staging_target_path', staging, ctx.kubeletRoot);
  return ctx.locks.with(req.volumeId, 'NodeUnstageVolume', async () => {
    await unmountAll(staging);
    ctx.log.info({ volumeId: req.volumeId, staging }, 'unstaged');
    return {};
  });
}
