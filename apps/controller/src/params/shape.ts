import { invalidArgument, outOfRange } from '@plinth/errors';
import { limitsOf, ratioCap, type VolumeType } from './volume-types.js';

/** A volume's type, size and performance, as EC2 describes it or as a modification leaves it. */
export interface VolumeShape {
  type: VolumeType;
  sizeGiB: number;
  iops?: number | undefined;
  throughput?: number | undefined;
}

/** What ControllerModifyVolume or ControllerExpandVolume asks ModifyVolume to change. */
export interface ShapeChange {
  sizeGiB?: number | undefined;
  type?: VolumeType | undefined;
  iops?: number | undefined;
  throughput?: number | undefined;
}

/** EC2's IOPS and throughput for a volume whose type ModifyVolume changes without saying (ModifyVolume's documented defaults). */
const NEW_TYPE_DEFAULTS = { iops: 3000, throughput: 125 };

/**
 * The volume once ModifyVolume has applied `change` to `current`. What the
 * change leaves out follows EC2: IOPS and throughput are kept while the type
 * stays; a change to io1, io2 or gp3 gets 3000 IOPS, to gp3 125 MiB/s.
 */
export function modifiedShape(current: VolumeShape, change: ShapeChange): VolumeShape {
  const type = change.type ?? current.type;
  const keep = type === current.type;
  const lim = limitsOf(type);
  return {
    type,
    sizeGiB: Math.max(current.sizeGiB, change.sizeGiB ?? 0),
    iops: lim.iops ? (change.iops ?? (keep ? current.iops : undefined) ?? NEW_TYPE_DEFAULTS.iops) : undefined,
    throughput: lim.throughput ? (change.throughput ?? (keep ? current.throughput : undefined) ?? NEW_TYPE_DEFAULTS.throughput) : undefined,
  };
}

/**
 * Checks a volume as `change` would leave it against EC2's limits for its
 * type, naming the parameter at fault: INVALID_ARGUMENT, or OUT_OF_RANGE for
 * a size beyond the type's maximum.
 */
export function checkShape(shape: VolumeShape, change: ShapeChange): void {
  const { type, sizeGiB, iops, throughput } = shape;
  const lim = limitsOf(type);
  if (change.iops !== undefined && !lim.iops) throw invalidArgument(`parameter iops: volume type ${type} does not take an IOPS setting`);
  if (change.throughput !== undefined && !lim.throughput) throw invalidArgument(`parameter throughput: only gp3 takes a throughput setting, not ${type}`);
  if (sizeGiB < lim.minGiB || sizeGiB > lim.maxGiB) {
    const msg = `a ${sizeGiB} GiB volume cannot be ${type} (${lim.minGiB}-${lim.maxGiB} GiB)`;
    throw change.type !== undefined ? invalidArgument(`parameter type: ${msg}`) : outOfRange(`capacity_range: ${msg}`);
  }
  if (lim.iops && iops !== undefined) {
    const src = change.iops !== undefined ? 'parameter iops' : `parameter type: ${type} gets EC2's default of ${iops} IOPS unless iops is set; that`;
    if (iops < lim.iops.min || iops > lim.iops.max) throw invalidArgument(`${src}: ${iops} IOPS is outside ${lim.iops.min}-${lim.iops.max} for ${type}`);
    if (iops > ratioCap(lim.iops, sizeGiB))
      throw invalidArgument(`${src}: ${iops} IOPS exceeds ${lim.iops.perGiB} IOPS per GiB for a ${sizeGiB} GiB ${type} volume`);
  }
  if (lim.throughput && throughput !== undefined) {
    const t = lim.throughput;
    if (throughput < t.min || throughput > t.max) throw invalidArgument(`parameter throughput: ${throughput} MiB/s is outside ${t.min}-${t.max} for ${type}`);
    if (iops !== undefined && throughput > iops * t.perIops)
      throw invalidArgument(
        `parameter throughput: ${throughput} MiB/s is more than ${t.perIops} MiB/s per IOPS allows with ${iops} IOPS (at most ${Math.floor(iops * t.perIops)})`,
      );
  }
}
