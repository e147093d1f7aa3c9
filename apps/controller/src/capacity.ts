import { invalidArgument, outOfRange } from '@plinth/errors';
import type { CapacityRange } from '@plinth/csi';

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
  if (limit > 0 && required > limit)
    throw outOfRange(`capacity_range: required_bytes ${required} is more than limit_bytes ${limit}`);
  let size = required > 0 ? Math.ceil(required / GiB) : limit > 0 ? Math.min(defaultGiB, Math.floor(limit / GiB)) : defaultGiB;
  size = Math.max(size, minGiB);
  if (limit > 0 && size * GiB > limit)
    throw outOfRange(`capacity_range: no whole GiB size ≥ ${minGiB} GiB fits under limit_bytes ${limit}`);
  if (size > maxGiB) throw outOfRange(`capacity_range: ${size} GiB is more than the ${maxGiB} GiB maximum for this volume type`);
  return size;
}
