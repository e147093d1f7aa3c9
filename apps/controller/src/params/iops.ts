import { invalidArgument } from '@plinth/errors';
import { limitsOf, ratioCap, type VolumeType } from './volume-types.js';

/** The IOPS to request, and when they differ from what the class asked, why (logged, and shown in the PV's volume attributes). */
export interface ResolvedIops {
  iops?: number | undefined;
  note?: string | undefined;
}

/** The volume-context key that carries the note (visible as the PV's spec.csi.volumeAttributes). */
export const IOPS_NOTE = 'iopsNote';

/**
 * aws-ebs-csi-driver's IOPS rule: `iops` or iopsPerGB × size, raised to the
 * type's minimum when `allowIncrease` (allowAutoIOPSPerGBIncrease), then
 * capped at the type's maximum and at its IOPS-per-GiB ratio for the size.
 * Below the minimum without `allowIncrease` is INVALID_ARGUMENT (EC2 would
 * refuse the volume). A volume type without an IOPS setting gets none.
 */
function capIops(
  type: VolumeType,
  sizeGiB: number,
  wanted: { iops?: number | undefined; iopsPerGB?: number | undefined; allowIncrease: boolean },
): ResolvedIops {
  const lim = limitsOf(type).iops;
  if (!lim) return {};
  const asked = wanted.iops ?? (wanted.iopsPerGB !== undefined ? wanted.iopsPerGB * sizeGiB : undefined);
  if (asked === undefined) return {};
  const what = wanted.iops !== undefined ? `iops ${asked}` : `iopsPerGB ${wanted.iopsPerGB} × ${sizeGiB} GiB = ${asked} IOPS`;
  if (asked < lim.min) {
    if (!wanted.allowIncrease)
      throw invalidArgument(
        `parameter ${wanted.iops !== undefined ? 'iops' : 'iopsPerGB'}: ${what} is below ${lim.min} for ${type}; set allowAutoIOPSPerGBIncrease "true" to round up`,
      );
    return { iops: lim.min, note: `${what} raised to ${type}'s minimum of ${lim.min} IOPS (allowAutoIOPSPerGBIncrease)` };
  }
  if (asked > lim.max) {
    const iops = Math.min(lim.max, ratioCap(lim, sizeGiB));
    return { iops, note: `${what} capped to ${iops} IOPS: ${type} allows at most ${lim.max} IOPS and ${lim.perGiB} IOPS per GiB (${sizeGiB} GiB)` };
  }
  const cap = ratioCap(lim, sizeGiB);
  if (asked > cap) return { iops: cap, note: `${what} capped to ${cap} IOPS: ${type} allows ${lim.perGiB} IOPS per GiB (${sizeGiB} GiB)` };
  return { iops: asked };
}

/** The IOPS for a new volume of `sizeGiB` from its class's parameters. */
export function resolveIops(
  p: { type: VolumeType; iops?: number | undefined; iopsPerGB?: number | undefined; allowAutoIopsPerGbIncrease: boolean },
  sizeGiB: number,
): ResolvedIops {
  return capIops(p.type, sizeGiB, { iops: p.iops, iopsPerGB: p.iopsPerGB, allowIncrease: p.allowAutoIopsPerGbIncrease });
}

/** Tags keeping a volume's iopsPerGB and allowAutoIOPSIncreaseOnModify (aws-ebs-csi-driver keeps them as `<driver>/IOPSPerGb` and `<driver>/AllowAutoIOPSIncreaseOnModify`). */
export const TAG_IOPS_PER_GB = 'plinth.dev/iops-per-gb';
export const TAG_AUTO_IOPS_ON_MODIFY = 'plinth.dev/allow-auto-iops-increase-on-modify';

/**
 * The IOPS an expansion to `sizeGiB` sets, as aws-ebs-csi-driver: only on a
 * volume tagged with an iopsPerGB and allowAutoIOPSIncreaseOnModify "true";
 * iopsPerGB × size, raised to the minimum and capped.
 */
export function iopsOnResize(type: VolumeType, tags: Record<string, string>, sizeGiB: number): ResolvedIops {
  const perGB = Number(tags[TAG_IOPS_PER_GB]);
  if (tags[TAG_AUTO_IOPS_ON_MODIFY] !== 'true' || !Number.isSafeInteger(perGB) || perGB <= 0) return {};
  return capIops(type, sizeGiB, { iopsPerGB: perGB, allowIncrease: true });
}
