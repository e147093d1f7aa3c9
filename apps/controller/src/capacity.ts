import { invalidArgument, outOfRange } from '@plinth/errors';
import type { CapacityRange } from '@plinth/csi';
import { limitsOf, type VolumeType } from './params/volume-types.js';

export const GiB = 1024 ** 3;

/**
 * The whole number of GiB to provision for a capacity range: the smallest
 * size ≥ required (and ≥ the type's minimum) that stays ≤ limit. With no
 * range, `defaultGiB`. OUT_OF_RANGE when no whole GiB fits.
 */
export function sizeInGiB(range: CapacityRange | undefined, minGiB: number, maxGiB: number, defaultGiB: number): number {
  const required = range?.requiredBytes ?? 0;
  const limit = range?.limitBytes ?? 0;
  if (required < 0 || limit < 0) throw invalidArgument('capacity_range: required_bytes and limit_bytes must not be negative');
  if (limit > 0 && required > limit) throw outOfRange(`capacity_range: required_bytes ${required} is more than limit_bytes ${limit}`);
  let size = required > 0 ? Math.ceil(required / GiB) : limit > 0 ? Math.min(defaultGiB, Math.floor(limit / GiB)) : defaultGiB;
  size = Math.max(size, minGiB);
  if (limit > 0 && size * GiB > limit) throw outOfRange(`capacity_range: no whole GiB size ≥ ${minGiB} GiB fits under limit_bytes ${limit}`);
  if (size > maxGiB) throw outOfRange(`capacity_range: ${size} GiB is more than the ${maxGiB} GiB maximum for this volume type`);
  return size;
}

/**
 * The size of a volume made from a source of `src.sizeGiB`: required_bytes
 * below the source's size is OUT_OF_RANGE (CSI's own example for the code),
 * as is a limit_bytes below it; with no required_bytes the volume gets the
 * source's size (at least the type's minimum). `sizeGiB` is what the range
 * alone gave.
 */
export function sizeForSource(
  range: CapacityRange | undefined,
  sizeGiB: number,
  src: { sizeGiB: number; what: string } | undefined,
  lim: { minGiB: number; maxGiB: number },
): number {
  if (!src || src.sizeGiB <= 0) return sizeGiB;
  const required = range?.requiredBytes ?? 0;
  const limit = range?.limitBytes ?? 0;
  const srcBytes = src.sizeGiB * GiB;
  if (required > 0 && required < srcBytes)
    throw outOfRange(`capacity_range: required_bytes ${required} is smaller than the source ${src.what} (${src.sizeGiB} GiB)`);
  if (limit > 0 && limit < srcBytes) throw outOfRange(`capacity_range: limit_bytes ${limit} is smaller than the source ${src.what} (${src.sizeGiB} GiB)`);
  const size = required > 0 ? sizeGiB : Math.max(src.sizeGiB, lim.minGiB);
  if (size > lim.maxGiB) throw outOfRange(`capacity_range: ${size} GiB is more than the ${lim.maxGiB} GiB maximum for this volume type`);
  if (limit > 0 && size * GiB > limit) throw outOfRange(`capacity_range: no whole GiB size ≥ ${size} GiB fits under limit_bytes ${limit}`);
  return size;
}

/** The size of a new volume of `type`: from the capacity range (else `defaultGiB`), within the type's limits, and at least its source's size. */
export function newVolumeSizeGiB(
  range: CapacityRange | undefined,
  type: VolumeType,
  defaultGiB: number,
  source: { sizeGiB: number; what: string } | undefined,
): number {
  const lim = limitsOf(type);
  return sizeForSource(range, sizeInGiB(range, lim.minGiB, lim.maxGiB, defaultGiB), source, lim);
}
