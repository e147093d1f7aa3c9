import { realpath, stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { failedPrecondition, invalidArgument, notFound } from '@plinth/errors';
import { isEbsModel, majMinOf, serialMatches, serialOf } from './identity.js';
import { blockEntryByMajMin, listBlockEntries, type BlockEntry } from './sysfs.js';

export interface DeviceRoots {
  sysRoot: string;
  devRoot: string;
}

/** A device node whose identity as the volume has been checked. */
export interface ProvenDevice {
  /** The device node to touch (under devRoot). */
  path: string;
  majMin: string;
  /** Kernel name (sysfs block entry). */
  name: string;
  /**
   * nvme-serial: sysfs serial + model name the volume and the node's rdev matches that sysfs entry.
   * attachment-path: non-NVMe (Xen) device at the attachment path the controller reported; no serial exists to check.
   */
  proof: 'nvme-serial' | 'attachment-path';
}

type Check = { ok: ProvenDevice } | { mismatch: string } | undefined;

/** Maps a publish_context path such as /dev/xvdba into devRoot, rejecting anything outside /dev. */
export function attachmentPath(devRoot: string, devicePath: string): string {
  const n = normalize(devicePath);
  if (n !== devicePath || !/^\/dev\/[A-Za-z0-9._-]+$/.test(n)) {
    throw invalidArgument(`publish_context devicePath "${devicePath.slice(0, 64)}" is not a device under /dev`);
  }
  return join(devRoot, n.slice('/dev/'.length));
}

async function blockNode(path: string): Promise<{ real: string; majMin: string } | undefined> {
  try {
    const real = await realpath(path);
    const st = await stat(real, { bigint: true });
    if (!st.isBlockDevice()) return undefined;
    return { real, majMin: majMinOf(st.rdev) };
  } catch {
    return undefined;
  }
}

/** Checks one candidate node against sysfs. */
async function check(roots: DeviceRoots, volumeId: string, path: string, fromAttachmentPath: boolean): Promise<Check> {
  const node = await blockNode(path);
  if (!node) return undefined;
  const entry = await blockEntryByMajMin(roots.sysRoot, node.majMin);
  if (!entry) return { mismatch: `${path} (${node.majMin}) has no sysfs entry` };
  if (entry.serial !== undefined) {
    if (serialMatches(entry.serial, volumeId) && isEbsModel(entry.model ?? '')) {
      return { ok: { path: node.real, majMin: node.majMin, name: entry.name, proof: 'nvme-serial' } };
    }
    return { mismatch: `${path} is ${entry.name} with serial "${entry.serial}" and model "${entry.model ?? ''}", not ${serialOf(volumeId)} / EBS` };
  }
  if (fromAttachmentPath) return { ok: { path: node.real, majMin: node.majMin, name: entry.name, proof: 'attachment-path' } };
  return { mismatch: `${path} is ${entry.name}, which has no NVMe serial` };
}

/** One discovery pass: by-id link, sysfs scan, then the attachment path. */
async function lookOnce(roots: DeviceRoots, volumeId: string, devicePath: string | undefined): Promise<{ found?: ProvenDevice; mismatches: string[] }> {
  const mismatches: string[] = [];
  const candidates: { path: string; attach: boolean }[] = [
    { path: join(roots.devRoot, 'disk', 'by-id', `nvme-Amazon_Elastic_Block_Store_${serialOf(volumeId)}`), attach: false },
  ];
  const entries: BlockEntry[] = await listBlockEntries(roots.sysRoot);
  for (const e of entries) {
    if (e.serial !== undefined && serialMatches(e.serial, volumeId) && isEbsModel(e.model ?? '')) {
      candidates.push({ path: join(roots.devRoot, e.name), attach: false });
    }
  }
  if (devicePath) candidates.push({ path: attachmentPath(roots.devRoot, devicePath), attach: true });
  for (const c of candidates) {
    const r = await check(roots, volumeId, c.path, c.attach);
    if (r && 'ok' in r) return { found: r.ok, mismatches };
    if (r) mismatches.push(r.mismatch);
  }
  return { mismatches };
}

/**
 * Finds the block device of a volume and proves it is that volume, waiting up
 * to `waitMs` for it to appear. A device that is there but is something else
 * is FAILED_PRECONDITION; nothing at all is NOT_FOUND.
 */
export async function findDevice(
  roots: DeviceRoots,
  volumeId: string,
  devicePath: string | undefined,
  waitMs: number,
  signal?: AbortSignal,
): Promise<ProvenDevice> {
  if (devicePath !== undefined && devicePath !== '') attachmentPath(roots.devRoot, devicePath);
  const deadline = Date.now() + waitMs;
  let delay = 50;
  for (;;) {
    const { found, mismatches } = await lookOnce(roots, volumeId, devicePath || undefined);
    if (found) return found;
    if (Date.now() >= deadline || signal?.aborted) {
      if (mismatches.length > 0) {
        throw failedPrecondition(`device for volume ${volumeId} failed the identity check, left untouched: ${mismatches.join('; ')}`);
      }
      throw notFound(`no block device for volume ${volumeId} appeared within ${waitMs} ms (looked for NVMe serial ${serialOf(volumeId)}${devicePath ? ` and ${devicePath}` : ''})`);
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 500);
  }
}

/**
 * Re-checks a proven device right before a destructive step: the node still
 * has the same major:minor and sysfs still names the same volume there.
 */
export async function reprove(roots: DeviceRoots, dev: ProvenDevice, volumeId: string): Promise<void> {
  const node = await blockNode(dev.path);
  if (!node || node.majMin !== dev.majMin) throw failedPrecondition(`device ${dev.path} of volume ${volumeId} changed under us; left untouched`);
  if (dev.proof === 'nvme-serial') {
    const entry = await blockEntryByMajMin(roots.sysRoot, dev.majMin);
    if (!entry || entry.serial === undefined || !serialMatches(entry.serial, volumeId)) {
      throw failedPrecondition(`device ${dev.path} no longer carries serial ${serialOf(volumeId)}; left untouched`);
    }
  }
}
