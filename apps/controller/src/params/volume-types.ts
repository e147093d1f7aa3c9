import { VOLUME_TYPE_LIMITS } from '@plinth/cloud';

/** EC2's limits per EBS volume type: @plinth/cloud's one table. */
export { isVolumeType, limitsOf, VOLUME_TYPES, type VolumeType } from '@plinth/cloud';
export { VOLUME_TYPE_LIMITS };

/**
 * The most IOPS a volume of `sizeGiB` may have: the per-GiB ratio, but never
 * below the type's minimum (EC2 gives a 1 GiB gp3 its 3000 baseline IOPS).
 */
export function ratioCap(lim: { min: number; perGiB: number }, sizeGiB: number): number {
  return Math.max(lim.min, lim.perGiB * sizeGiB);
}
