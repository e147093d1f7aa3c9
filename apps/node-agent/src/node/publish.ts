import { dirname } from 'node:path';
import { isNodeLocalHandle } from '@plinth/cloud';
import { alreadyExists, failedPrecondition, invalidArgument } from '@plinth/errors';
import { VolumeCapability_AccessMode_Mode as Mode, type NodePublishVolumeRequest, type NodePublishVolumeResponse } from '@plinth/csi';
import { findDevice } from '../device/find.js';
import { ebsVolumeOf } from '../device/node-local.js';
import type { MountEntry } from '../mount/mountinfo.js';
import { mountAt } from '../os/host-os.js';
import { assertNoEscape, validatePath } from '../paths.js';
import { parseCapability } from './capability.js';
import type { NodeContext } from './context.js';

function checkExisting(existing: MountEntry, majMin: string, readOnly: boolean, req: NodePublishVolumeRequest): void {
  if (existing.majMin !== majMin) {
    throw alreadyExists(`target_path ${req.targetPath} already has another device mounted (${existing.source}), not volume ${req.volumeId}`);
  }
  if (existing.mountOptions.includes('ro') !== readOnly) {
    throw alreadyExists(
      `volume ${req.volumeId} is already published at ${req.targetPath} ${readOnly ? 'read-write' : 'read-only'}, incompatible with readonly=${readOnly}`,
    );
  }
}

/**
 * SINGLE_NODE_SINGLE_WRITER: published at one target path at a time. Another
 * publish of the device (its filesystem, or its node bound onto a file) under
 * the kubelet root, besides `staging` and `target`, is FAILED_PRECONDITION.
 */
async function assertSingleWriter(ctx: NodeContext, volumeId: string, majMin: string, target: string, staging: string | undefined): Promise<void> {
  const root = `${ctx.kubeletRoot}/`;
  for (const m of await ctx.os.mounts()) {
    const p = m.mountPoint;
    if (p === target || p === staging || !p.startsWith(root)) continue;
    const same = m.majMin === majMin || (staging === undefined && (await ctx.os.pathInfo(p).catch(() => undefined))?.majMin === majMin);
    if (same)
      throw failedPrecondition(`volume ${volumeId} has access mode SINGLE_NODE_SINGLE_WRITER and is already published at ${p}; unpublish it there first`);
  }
}

export async function nodePublishVolume(ctx: NodeContext, req: NodePublishVolumeRequest, signal?: AbortSignal): Promise<NodePublishVolumeResponse> {
  const os = ctx.os;
  const ebsId = ebsVolumeOf(req.volumeId, req.publishContext);
  const target = validatePath('target_path', req.targetPath, ctx.kubeletRoot);
  const access = parseCapability(req.volumeCapability, undefined, { nodeLocal: isNodeLocalHandle(req.volumeId) });
  const staging = access.kind === 'mount' ? validatePath('staging_target_path', req.stagingTargetPath, ctx.kubeletRoot) : undefined;
  if (staging !== undefined && (target === staging || target.startsWith(`${staging}/`))) {
    throw invalidArgument(`target_path ${target} must not be inside staging_target_path ${staging}`);
  }
  const readOnly = req.readonly;
  await assertNoEscape(os, 'target_path', target, ctx.kubeletRoot);
  if (staging !== undefined) await assertNoEscape(os, 'staging_target_path', staging, ctx.kubeletRoot);

  return ctx.locks.with(req.volumeId, 'NodePublishVolume', async () => {
    const log = ctx.log.child({ volumeId: req.volumeId, target });
    if (access.kind === 'block') {
      const dev = await findDevice(os, ebsId, req.publishContext.devicePath, ctx.deviceWaitMs, signal);
      const existing = await mountAt(os, target);
      if (existing) {
        // A bind of a device node: mountinfo shows the /dev filesystem; the node's rdev is the device.
        const st = await os.pathInfo(target);
        checkExisting({ ...existing, majMin: st?.kind === 'block' && st.majMin !== undefined ? st.majMin : 'none' }, dev.majMin, readOnly, req);
        return {};
      }
      if (access.mode === Mode.SINGLE_NODE_SINGLE_WRITER) await assertSingleWriter(ctx, req.volumeId, dev.majMin, target, undefined);
      await os.mkdir(dirname(target));
      await os.createFile(target);
      await os.bindMount(dev.path, target, readOnly, []);
      log.info({ device: dev.path, readOnly }, 'published block device');
      return {};
    }

    const staged = await mountAt(os, staging!);
    if (!staged) throw failedPrecondition(`volume ${req.volumeId} is not staged at ${staging}; call NodeStageVolume first`);
    const existing = await mountAt(os, target);
    if (existing) {
      checkExisting(existing, staged.majMin, readOnly, req);
      return {};
    }
    if (access.mode === Mode.SINGLE_NODE_SINGLE_WRITER) await assertSingleWriter(ctx, req.volumeId, staged.majMin, target, staging);
    await os.mkdir(target);
    const extra = access.mountFlags.filter((f) => f !== 'ro' && f !== 'rw' && f !== 'defaults');
    await os.bindMount(staging!, target, readOnly || access.mountFlags.includes('ro'), extra);
    log.info({ staging, readOnly }, 'published');
    return {};
  });
}
