import { invalidArgument, notFound } from '@plinth/errors';
import { VolumeUsage_Unit, type NodeGetVolumeStatsRequest, type NodeGetVolumeStatsResponse, type VolumeCondition } from '@plinth/csi';
import { requireExistingHandle } from '../device/node-local.js';
import { blockDeviceByMajMin, mountAt, type FsStats } from '../os/host-os.js';
import { validatePath, volumePathOf } from '../paths.js';
import type { NodeContext } from './context.js';

const healthy: VolumeCondition = { abnormal: false, message: 'volume is healthy' };
const abnormal = (message: string): VolumeCondition => ({ abnormal: true, message });

/** Whether a device (major:minor) still exists in sysfs. */
async function deviceGone(ctx: NodeContext, majMin: string): Promise<boolean> {
  return (await blockDeviceByMajMin(ctx.os, majMin)) === undefined;
}

export async function nodeGetVolumeStats(ctx: NodeContext, req: NodeGetVolumeStatsRequest): Promise<NodeGetVolumeStatsResponse> {
  if (!req.volumePath) throw invalidArgument('volume_path is required');
  requireExistingHandle(req.volumeId);
  const path = volumePathOf(req.volumePath, req.volumeId, ctx.kubeletRoot);
  if (req.stagingTargetPath) validatePath('staging_target_path', req.stagingTargetPath, ctx.kubeletRoot);

  // Stats are read-only: no per-volume lock, so kubelet's polling never blocks a stage or publish.
  const st = await ctx.os.pathInfo(path).catch(() => undefined);
  if (!st) throw notFound(`volume_path ${path} does not exist for volume ${req.volumeId}`);
  const mount = await mountAt(ctx.os, path);
  if (!mount) {
    return { usage: [], volumeCondition: abnormal(`volume ${req.volumeId} is not mounted at ${path} (the mount is gone)`) };
  }

  if (st.kind !== 'directory') {
    // Block volume: the device node is bind-mounted onto a file.
    let size: number;
    try {
      size = await ctx.os.deviceSize(path);
    } catch {
      return { usage: [], volumeCondition: abnormal(`the block device of volume ${req.volumeId} cannot be read at ${path}`) };
    }
    // A bind of a device node: the node's rdev is the device (mountinfo shows the /dev filesystem).
    const majMin = st.majMin ?? 'none';
    const cond = (await deviceGone(ctx, majMin)) ? abnormal(`the device of volume ${req.volumeId} (${majMin}) has vanished`) : healthy;
    return { usage: [{ unit: VolumeUsage_Unit.BYTES, total: size, used: 0, available: 0 }], volumeCondition: cond };
  }

  let fs: FsStats;
  try {
    fs = await ctx.os.statfs(path);
  } catch (err) {
    // EIO and friends: the filesystem is there but cannot answer.
    return {
      usage: [],
      volumeCondition: abnormal(`the filesystem of volume ${req.volumeId} at ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`),
    };
  }
  const usage = [
    { unit: VolumeUsage_Unit.BYTES, total: fs.blocks * fs.bsize, available: fs.bavail * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize },
    { unit: VolumeUsage_Unit.INODES, total: fs.files, available: fs.ffree, used: fs.files - fs.ffree },
  ];
  let cond = healthy;
  if (await deviceGone(ctx, mount.majMin)) cond = abnormal(`the device of volume ${req.volumeId} (${mount.majMin}) has vanished`);
  else if (mount.superOptions.includes('ro') && !mount.mountOptions.includes('ro')) {
    cond = abnormal(`the ${mount.fsType} filesystem of volume ${req.volumeId} is read-only although mounted read-write (remounted read-only after errors?)`);
  }
  return { usage, volumeCondition: cond };
}
