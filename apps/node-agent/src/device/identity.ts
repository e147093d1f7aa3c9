import { isVolumeId } from '@plinth/cloud';
import { invalidArgument, notFound } from '@plinth/errors';

/** The NVMe model string of an EBS volume (sysfs pads it with spaces). */
export const EBS_MODEL = 'Amazon Elastic Block Store';

export function validateVolumeId(volumeId: string, field = 'volume_id'): void {
  if (!volumeId) throw invalidArgument(`${field} is required`);
  if (!isVolumeId(volumeId)) throw invalidArgument(`${field} "${volumeId.slice(0, 64)}" is not an EBS volume id (vol-<hex>)`);
}

/** For calls about a volume that must already be here (stats, expand): one that cannot be an EBS volume is NOT_FOUND. */
export function requireExistingVolumeId(volumeId: string): void {
  if (!volumeId) throw invalidArgument('volume_id is required');
  if (!isVolumeId(volumeId)) throw notFound(`volume ${volumeId.slice(0, 64)} not found on this node (not an EBS volume id)`);
}

/** The NVMe serial EBS reports for a volume: the id without its dash ("vol-0abc" -> "vol0abc"). */
export function serialOf(volumeId: string): string {
  return volumeId.replace(/^vol-/, 'vol');
}

/** Whether a (space-padded) sysfs serial names this volume. */
export function serialMatches(serial: string, volumeId: string): boolean {
  const s = serial.trim();
  return s === serialOf(volumeId) || s === volumeId;
}

export function isEbsModel(model: string): boolean {
  return model.trim() === EBS_MODEL;
}

/** major:minor of a device number as the kernel prints it (glibc encoding of dev_t). */
export function majMinOf(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}
