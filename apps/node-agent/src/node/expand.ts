import { failedPrecondition, invalidArgument, notFound } from '@plinth/errors';
import type { NodeExpandVolumeRequest, NodeExpandVolumeResponse } from '@plinth/csi';
import { findDevice } from '../device/find.js';
import { requireExistingVolumeId } from '../device/identity.js';
import { GROW_SLACK_BYTES } from '../mount/resize.js';
import { mountAt } from '../os/host-os.js';
import { validatePath, volumePathOf } from '../paths.js';
import { parseCapability } from './capability.js';
import type { NodeContext } from './context.js';

/**
 * Grows the filesystem online to the device's size (resize2fs for ext3/ext4,
 * xfs_growfs for xfs). Block volumes need nothing: the new size is the
 * device's. Returns the capacity the volume now has.
 */
export async function nodeExpandVolume(ctx: NodeContext, req: NodeExpandVolumeRequest, signal?: AbortSignal): Promise<NodeExpandVolumeResponse> {
  if (!req.volumePath) throw invalidArgument('volume_path is required');
  requireExistingVolumeId(req.volumeId);
  const path = volumePathOf(req.volumePath, req.volumeId, ctx.kubeletRoot);
  if (req.stagingTargetPath) validatePath('staging_target_path', req.stagingTargetPath, ctx.kubeletRoot);
  const access = req.volumeCapability ? parseCapability(req.volumeCapability) : undefined;
  const required = req.capacityRange?.requiredBytes ?? 0;

  const os = ctx.os;
  return ctx.locks.with(req.volumeId, 'NodeExpandVolume', async () => {
    const st = await os.pathInfo(path).catch(() => undefined);
    if (!st) throw notFound(`volume_path ${path} does not exist for volume ${req.volumeId}`);
    const dev = await findDevice(os, req.volumeId, undefined, ctx.deviceWaitMs, signal);
    const size = await os.deviceSize(dev.path);
    if (required > 0 && size < required) {
      throw failedPrecondition(
        `device ${dev.path} of volume ${req.volumeId} is ${size} bytes, less than the required ${required}; the resize is not visible on this node yet`,
      );
    }
    if (access?.kind === 'block' || st.kind !== 'directory') return { capacityBytes: size };

    const mount = await mountAt(os, path);
    if (!mount) throw failedPrecondition(`volume ${req.volumeId} is not mounted at ${path}`);
    if (mount.majMin !== dev.majMin) {
      throw failedPrecondition(`${path} is mounted from ${mount.source} (${mount.majMin}), not from volume ${req.volumeId} (${dev.path}, ${dev.majMin})`);
    }
    const before = await os.filesystemSize(mount.fsType, dev.path, path);
    if (size - before > GROW_SLACK_BYTES) {
      await os.growOnline(mount.fsType, dev.path, path);
      ctx.log.info({ volumeId: req.volumeId, from: before, to: size, fsType: mount.fsType }, 'filesystem grown');
    }
    return { capacityBytes: size };
  });
}
