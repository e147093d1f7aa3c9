import { normalize } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { failedPrecondition, invalidArgument, notFound } from '@plinth/errors';
import { blockDeviceByMajMin, type HostOs } from '../os/host-os.js';
import { isEbsModel, serialMatches, serialOf } from './identity.js';

/** A device node whose identity as the volume has been checked. */
export interface ProvenDevice {
  /** The device node to touch (under the dev root). */
  path: string;
  /** The same node, relative to the dev root (for the re-check). */
  node: string;
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

/** The name under /dev of a publish_context path such as /dev/xvdba, rejecting anything outside /dev. */
export function attachmentName(devicePath: string): string {
  const n = normalize(devicePath);
  if (n !== devicePath || !/^\/dev\/[A-Za-z0-9._-]+$/.test(n)) {
    throw invalidArgument(`publish_context devicePath "${devicePath.slice(0, 64)}" is not a device under /dev`);
  }
  return n.slice('/dev/'.length);
}

/** Checks one candidate node (a name under the dev root) against sysfs. */
async function check(os: HostOs, volumeId: string, name: string, fromAttachmentPath: boolean): Promise<Check> {
  const node = await os.deviceNode(name);
  if (!node) return undefined;
  const shown = `/dev/${name}`;
  const entry = await blockDeviceByMajMin(os, node.majMin, node.name);
  if (!entry) return { mismatch: `${shown} (${node.majMin}) has no sysfs entry` };
  const found = { path: node.path, node: node.name, majMin: node.majMin, name: entry.name };
  if (entry.serial !== undefined) {
    if (serialMatches(entry.serial, volumeId) && isEbsModel(entry.model ?? '')) return { ok: { ...found, proof: 'nvme-serial' } };
    return { mismatch: `${shown} is ${entry.name} with serial "${entry.serial}" and model "${entry.model ?? ''}", not ${serialOf(volumeId)} / EBS` };
  }
  if (fromAttachmentPath) return { ok: { ...found, proof: 'attachment-path' } };
  return { mismatch: `${shown} is ${entry.name}, which has no NVMe serial` };
}

/** One discovery pass: the by-id link udev makes, else a sysfs scan for the serial, then the attachment path. */
async function lookOnce(os: HostOs, volumeId: string, devicePath: string | undefined): Promise<{ found?: ProvenDevice; mismatches: string[] }> {
  const mismatches: string[] = [];
  const tried = async (name: string, attach: boolean): Promise<ProvenDevice | undefined> => {
    const r = await check(os, volumeId, name, attach);
    if (r && 'ok' in r) return r.ok;
    if (r) mismatches.push(r.mismatch);
    return undefined;
  };
  // The common case costs one link, one stat and one sysfs entry; the scan of every block device only runs without it.
  const byId = await tried(`disk/by-id/nvme-Amazon_Elastic_Block_Store_${serialOf(volumeId)}`, false);
  if (byId) return { found: byId, mismatches };
  for (const e of await os.blockDevices()) {
    if (e.serial === undefined || !serialMatches(e.serial, volumeId) || !isEbsModel(e.model ?? '')) continue;
    const found = await tried(e.name, false);
    if (found) return { found, mismatches };
  }
  const attached = devicePath ? await tried(attachmentName(devicePath), true) : undefined;
  return attached ? { found: attached, mismatches } : { mismatches };
}

/**
 * Finds the block device of a volume and proves it is that volume, waiting up
 * to `waitMs` for it to appear. A device that is there but is something else
 * is FAILED_PRECONDITION; nothing at all is NOT_FOUND.
 */
export async function findDevice(os: HostOs, volumeId: string, devicePath: string | undefined, waitMs: number, signal?: AbortSignal): Promise<ProvenDevice> {
  if (devicePath !== undefined && devicePath !== '') attachmentName(devicePath);
  const deadline = Date.now() + waitMs;
  let delay = 50;
  for (;;) {
    const { found, mismatches } = await lookOnce(os, volumeId, devicePath || undefined);
    if (found) return found;
    if (Date.now() >= deadline || signal?.aborted) {
      if (mismatches.length > 0) {
        throw failedPrecondition(`device for volume ${volumeId} failed the identity check, left untouched: ${mismatches.join('; ')}`);
      }
      throw notFound(
        `no block device for volume ${volumeId} appeared within ${waitMs} ms (looked for NVMe serial ${serialOf(volumeId)}${devicePath ? ` and ${devicePath}` : ''})`,
      );
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 500);
  }
}

/**
 * Re-checks a proven device right before a destructive step: the node still
 * has the same major:minor and sysfs still names the same volume there.
 */
export async function reprove(os: HostOs, dev: ProvenDevice, volumeId: string): Promise<void> {
  const node = await os.deviceNode(dev.node);
  if (!node || node.majMin !== dev.majMin) throw failedPrecondition(`device ${dev.path} of volume ${volumeId} changed under us; left untouched`);
  if (dev.proof === 'nvme-serial') {
    const entry = await blockDeviceByMajMin(os, dev.majMin, dev.name);
    if (!entry || entry.serial === undefined || !serialMatches(entry.serial, volumeId)) {
      throw failedPrecondition(`device ${dev.path} no longer carries serial ${serialOf(volumeId)}; left untouched`);
    }
  }
}
