import { invalidArgument } from '@plinth/errors';
import type { VolumeParams } from './volume-params.js';
import { limitsOf, ratioCap } from './volume-types.js';

/**
 * The IOPS to request for a volume of `sizeGiB`: explicit, or iopsPerGB × size
 * (raised to the type's minimum when allowed, capped at its maximum), checked
 * against the type's range and ratio.
 */
export function resolveIops(p: VolumeParams, sizeGiB: number): number | undefined {
  const lim = limitsOf(p.type).iops;
  if (!lim) return undefined;
  if (p.iopsPerGB !== undefined) {
    let iops = p.iopsPerGB * sizeGiB;
    if (iops < lim.min) {
      if (!p.allowAutoIopsPerGbIncrease)
        throw invalidArgument(
          `parameter iopsPerGB: ${p.iopsPerGB} × ${sizeGiB} GiB = ${iops} IOPS is below ${lim.min} for ${p.type}; set allowAutoIOPSPerGBIncrease "true" to round up`,
        );
      iops = lim.min;
    }
    return Math.min(iops, lim.max, ratioCap(lim, sizeGiB));
  }
  if (p.iops === undefined) return undefined;
  if (p.iops < lim.min || p.iops > lim.max) throw invalidArgument(`parameter iops: ${p.iops} is outside ${lim.min}-${lim.max} for ${p.type}`);
  if (p.iops > ratioCap(lim, sizeGiB))
    throw invalidArgument(`parameter iops: ${p.iops} IOPS exceeds ${lim.perGiB} IOPS per GiB for a ${sizeGiB} GiB ${p.type} volume`);
  return p.iops;
}
