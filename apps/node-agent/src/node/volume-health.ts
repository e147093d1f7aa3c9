import { sep } from 'node:path';
import { isPlinthError, notFound } from '@plinth/errors';
import {
  VolumeHealthErrorType as Health,
  type NodeGetVolumeHealthRequest,
  type NodeGetVolumeHealthResponse,
  type VolumeHealth_VolumeHealthEntry as HealthEntry,
} from '@plinth/csi';
import { findDevice, type ProvenDevice } from '../device/find.js';
import { requireExistingVolumeId, serialOf } from '../device/identity.js';
import type { MountEntry } from '../mount/mountinfo.js';
import { blockDeviceByMajMin, mountAt } from '../os/host-os.js';
import { validatePath } from '../paths.js';
import type { NodeContext } from './context.js';

/** Health entries keyed by (status, reason): the spec allows each pair once, so a second finding adds to its message. */
class Findings {
  private readonly byKey = new Map<string, HealthEntry>();
  add(status: Health, reason: string, message: string): void {
    const key = `${status}/${reason}`;
    const had = this.byKey.get(key);
    if (!had) this.byKey.set(key, { status, reason, message });
    else if (!had.message.includes(message)) had.message += `; ${message}`;
  }
  get entries(): HealthEntry[] {
    return [...this.byKey.values()];
  }
}

/** The volume's device as this node sees it: proven by its NVMe serial, or why not. No waiting: health reports what is. */
async function deviceOf(ctx: NodeContext, volumeId: string): Promise<{ device?: ProvenDevice; problem?: string }> {
  try {
    return { device: await findDevice(ctx.os, volumeId, undefined, 0) };
  } catch (err) {
    if (isPlinthError(err) && err.kind === 'FailedPrecondition') return { problem: err.message };
    if (isPlinthError(err) && err.kind === 'NotFound') return {};
    throw err;
  }
}

/** Mount points under the kubelet root of the volume's filesystem (its staging mount and publish binds). */
async function mountsOfDevice(ctx: NodeContext, majMin: string): Promise<string[]> {
  const root = ctx.kubeletRoot.endsWith(sep) ? ctx.kubeletRoot : ctx.kubeletRoot + sep;
  return [...new Set((await ctx.os.mounts()).filter((m) => m.majMin === majMin && m.mountPoint.startsWith(root)).map((m) => m.mountPoint))];
}

/** A staging or publish path still mounted from the volume's device, with what is mounted there. */
interface Mounted {
  path: string;
  mount: MountEntry;
  /** The path's lstat failed other than ENOENT (EIO on a shut-down xfs): its code. */
  statError?: string;
}

/**
 * Where one path stands, from the mount table and lstat alone (no read that a
 * hung device could block): mounted from the volume's device, or not. A block
 * volume's path (the device node bound onto a file) is returned in
 * `blockFile`, to heartbeat through when the device node is gone.
 */
async function mountState(
  ctx: NodeContext,
  f: Findings,
  volumeId: string,
  path: string,
  device: ProvenDevice | undefined,
): Promise<{ mounted?: Mounted; blockFile?: string }> {
  let statError: string | undefined;
  const st = await ctx.os.pathInfo(path).catch((err: NodeJS.ErrnoException) => {
    statError = err.code ?? 'error';
    return undefined;
  });
  const mount = await mountAt(ctx.os, path);
  if (!mount || (!st && !statError)) {
    f.add(Health.INACCESSIBLE, 'MountMissing', `volume ${volumeId} is not mounted at ${path}${mount ? ' (the path does not exist)' : ''}`);
    return {};
  }
  if (st && st.kind !== 'directory') {
    // A block volume: the device node bound onto a file.
    if (device && st.majMin !== device.majMin)
      f.add(Health.INACCESSIBLE, 'MountWrongDevice', `${path} is device ${st.majMin ?? 'none'}, not ${device.path} (${device.majMin}) of volume ${volumeId}`);
    return { blockFile: path };
  }
  if (device && mount.majMin !== device.majMin) {
    f.add(
      Health.INACCESSIBLE,
      'MountWrongDevice',
      `${path} is mounted from device ${mount.majMin}, not ${device.path} (${device.majMin}) of volume ${volumeId}`,
    );
    return {};
  }
  if (!device && !(await blockDeviceByMajMin(ctx.os, mount.majMin))) {
    f.add(Health.INACCESSIBLE, 'DeviceGone', `the device of volume ${volumeId} (${mount.majMin}) has vanished from under its mount at ${path}`);
  }
  return { mounted: statError ? { path, mount, statError } : { path, mount } };
}

/** The filesystem at a mounted path: it reads, it is still writable, ext4 recorded no errors. Only run once the device answered its heartbeat. */
async function filesystemState(ctx: NodeContext, f: Findings, volumeId: string, m: Mounted): Promise<void> {
  const { path, mount } = m;
  const unreadable = (code: string) =>
    f.add(
      Health.INACCESSIBLE,
      'FilesystemUnreadable',
      `the ${mount.fsType} filesystem of volume ${volumeId} cannot be read at ${path} (${code}; shut down after errors?)`,
    );
  if (m.statError) unreadable(m.statError);
  else {
    try {
      await ctx.os.readDir(path, ctx.ioTimeoutMs);
    } catch (err) {
      unreadable((err as NodeJS.ErrnoException).code ?? 'error');
    }
  }
  if (mount.superOptions.includes('ro') && !mount.mountOptions.includes('ro'))
    f.add(
      Health.INACCESSIBLE,
      'FilesystemReadOnly',
      `the ${mount.fsType} filesystem of volume ${volumeId} went read-only although mounted read-write (remounted read-only after errors)`,
    );
  const errors = await ctx.os.filesystemErrors(mount.majMin);
  if (errors && errors.count > 0) {
    const where = [errors.first && `first in ${errors.first}`, errors.last && `last in ${errors.last}`].filter(Boolean).join(', ');
    f.add(
      Health.DEGRADED,
      'FilesystemErrors',
      `the ${mount.fsType} filesystem of volume ${volumeId} recorded ${errors.count} error${errors.count === 1 ? '' : 's'}${where ? ` (${where})` : ''}; check it with fsck at the next unstage`,
    );
  }
}

/**
 * NodeGetVolumeHealth (CSI 1.13, GET_VOLUME_HEALTH): the volume as this node
 * sees it, in an order a hung device cannot block: the mount table and lstat
 * first, then the heartbeat, and the filesystem is read only if the device
 * answered it (each read bounded by HEALTH_IO_TIMEOUT_MS too). The device (proven by its NVMe serial, as stage does) answers an
 * I/O heartbeat (a 4 KiB O_DIRECT read, bounded by HEALTH_IO_TIMEOUT_MS, in a
 * child process); the staging and publish paths given (or, without any, the
 * volume's mounts under the kubelet root) are still mounted from that
 * device; the filesystem reads, is still writable and has recorded no
 * errors (ext4's errors_count). Problems are INACCESSIBLE (device gone, I/O
 * error or no answer, mount gone or of another device, filesystem unreadable
 * or read-only) or DEGRADED (filesystem errors recorded). A missing
 * volume_id is INVALID_ARGUMENT; a volume neither attached here nor at a
 * given path is NOT_FOUND.
 */
export async function nodeGetVolumeHealth(ctx: NodeContext, req: NodeGetVolumeHealthRequest): Promise<NodeGetVolumeHealthResponse> {
  const volumeId = req.volumeId;
  requireExistingVolumeId(volumeId);
  const given = [
    ...(req.stagingTargetPath ? [validatePath('staging_target_path', req.stagingTargetPath, ctx.kubeletRoot)] : []),
    ...(req.volumePublishPath ? [validatePath('volume_publish_path', req.volumePublishPath, ctx.kubeletRoot)] : []),
  ];
  const f = new Findings();
  const { device, problem } = await deviceOf(ctx, volumeId);
  if (!device && !problem && given.length === 0)
    throw notFound(`volume ${volumeId} is not attached to this node (no device with NVMe serial ${serialOf(volumeId)})`);
  if (problem) f.add(Health.INACCESSIBLE, 'DeviceIdentity', problem);

  const paths = given.length > 0 ? given : device ? await mountsOfDevice(ctx, device.majMin) : [];
  let readThrough = device?.path;
  const mounted: Mounted[] = [];
  for (const path of paths) {
    const state = await mountState(ctx, f, volumeId, path, device);
    if (state.mounted) mounted.push(state.mounted);
    readThrough ??= state.blockFile;
  }
  if (!device && !problem && !f.entries.some((e) => e.reason === 'DeviceGone'))
    f.add(Health.INACCESSIBLE, 'DeviceGone', `no device with NVMe serial ${serialOf(volumeId)} is attached to this node any more`);

  // The heartbeat first: a filesystem on a device that does not answer is not read (the read would only hang or fail).
  const io = readThrough ? await ctx.os.readProbe(readThrough, ctx.ioTimeoutMs) : undefined;
  if (io?.kind === 'error') f.add(Health.INACCESSIBLE, 'IoError', `reading volume ${volumeId} at ${readThrough} failed: ${io.message}`);
  if (io?.kind === 'timeout') f.add(Health.INACCESSIBLE, 'IoTimeout', `a 4 KiB read of volume ${volumeId} at ${readThrough} has not answered for ${io.ms} ms`);
  if (io?.kind !== 'timeout') for (const m of mounted) await filesystemState(ctx, f, volumeId, m);
  const volumeHealth = { volumeId, healthStatuses: f.entries };
  ctx.health.report(volumeHealth);
  return { volumeHealth };
}
