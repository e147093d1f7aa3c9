import { isNodeLocalHandle } from '@plinth/cloud';
import { alreadyExists, failedPrecondition } from '@plinth/errors';
import type { NodeStageVolumeRequest, NodeStageVolumeResponse } from '@plinth/csi';
import { findDevice, reprove } from '../device/find.js';
import { ebsVolumeOf } from '../device/node-local.js';
import { isBlank } from '../mount/blkid.js';
import { mountableAs } from '../mount/fs-compat.js';
import { parseFormatOptions } from '../mount/mkfs.js';
import { GROW_SLACK_BYTES } from '../mount/resize.js';
import { mountAt, type HostOs } from '../os/host-os.js';
import { assertNoEscape, validatePath } from '../paths.js';
import { parseCapability } from './capability.js';
import type { NodeContext } from './context.js';

/** Mount options for the staging mount: defaults + the capability's flags (+ nouuid for xfs, so clones/snapshots mount). */
export function stageMountOptions(fsType: string, flags: string[]): string[] {
  const opts = ['defaults', ...flags];
  if (fsType === 'xfs' && !opts.includes('nouuid')) opts.push('nouuid');
  return opts;
}

/** Whether the device has grown beyond its filesystem. */
async function needsGrow(os: HostOs, fsType: string, device: string, mountPoint?: string): Promise<boolean> {
  const [dev, fs] = await Promise.all([os.deviceSize(device), os.filesystemSize(fsType, device, mountPoint)]);
  return dev - fs > GROW_SLACK_BYTES;
}

export async function nodeStageVolume(ctx: NodeContext, req: NodeStageVolumeRequest, signal?: AbortSignal): Promise<NodeStageVolumeResponse> {
  const os = ctx.os;
  // The EBS volume to prove the device by: volume_id, or for a node-local handle the one publish_context names.
  const ebsId = ebsVolumeOf(req.volumeId, req.publishContext);
  const staging = validatePath('staging_target_path', req.stagingTargetPath, ctx.kubeletRoot);
  const access = parseCapability(req.volumeCapability, undefined, { nodeLocal: isNodeLocalHandle(req.volumeId) });
  const format = access.kind === 'mount' ? parseFormatOptions(access.fsType, req.volumeContext) : {};
  const devicePath = req.publishContext.devicePath;

  await assertNoEscape(os, 'staging_target_path', staging, ctx.kubeletRoot);

  return ctx.locks.with(req.volumeId, 'NodeStageVolume', async () => {
    // Raw block volumes are not staged: publish binds the device itself.
    if (access.kind === 'block') return {};

    const existing = await mountAt(os, staging);
    const dev = await findDevice(os, ebsId, devicePath, ctx.deviceWaitMs, signal);
    const log = ctx.log.child({ volumeId: req.volumeId, device: dev.path, proof: dev.proof });
    if (dev.proof === 'attachment-path') log.warn('non-NVMe device: identity rests on the attachment path only (no serial to check)');

    if (existing) {
      if (existing.majMin !== dev.majMin) {
        throw failedPrecondition(
          `staging_target_path ${staging} already has another device mounted (${existing.source}, ${existing.majMin}), not volume ${req.volumeId}`,
        );
      }
      if (existing.fsType !== access.fsType) {
        throw alreadyExists(`volume ${req.volumeId} is already staged at ${staging} as ${existing.fsType}, incompatible with the requested ${access.fsType}`);
      }
      log.info({ staging }, 'already staged');
      return {};
    }

    const found = await os.probe(dev.path);
    if (isBlank(found)) {
      await reprove(os, dev, ebsId);
      log.info({ fsType: access.fsType, format }, 'blank device: formatting');
      await os.mkfs(access.fsType, dev.path, format);
    } else if (!mountableAs(found.type, access.fsType)) {
      const what = found.type || `a ${found.ptType} partition table`;
      throw failedPrecondition(`volume ${req.volumeId} already contains ${what}, not ${access.fsType}; refusing to reformat it`);
    } else if (access.fsType !== 'xfs' && (await needsGrow(os, access.fsType, dev.path))) {
      // The volume was resized while not staged: grow ext* before mounting (no online-resize privilege needed).
      await reprove(os, dev, ebsId);
      await os.growOffline(dev.path);
      log.info('filesystem was smaller than the device: grown before mounting');
    }

    await os.mkdir(staging);
    await reprove(os, dev, ebsId);
    const older = !isBlank(found) && found.type !== access.fsType;
    if (older)
      log.warn(
        { holds: found.type, fsType: access.fsType },
        `volume holds ${found.type}: mounting it as ${access.fsType}, whose driver reads it (not reformatting it)`,
      );
    await os.mount(dev.path, staging, access.fsType, stageMountOptions(access.fsType, access.mountFlags)).catch((err: unknown) => {
      if (!older) throw err;
      throw failedPrecondition(
        `volume ${req.volumeId} already contains ${found.type} and mounting it as ${access.fsType} failed (${(err as Error).message}); refusing to reformat it`,
      );
    });
    if (access.fsType === 'xfs') {
      try {
        // xfs only grows mounted.
        if (await needsGrow(os, 'xfs', dev.path, staging)) {
          await os.growOnline('xfs', dev.path, staging);
          log.info('filesystem was smaller than the device: grown');
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not grow the filesystem at stage; NodeExpandVolume will retry');
      }
    }
    log.info({ staging, fsType: access.fsType }, 'staged');
    return {};
  });
}
