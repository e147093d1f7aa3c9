import { isVolumeType, limitsOf, VOLUME_TYPES, type VolumeType } from '@plinth/cloud';
import { invalidArgument, outOfRange } from '@plinth/errors';
import { z } from 'zod';

export { isVolumeType, limitsOf, type VolumeType } from '@plinth/cloud';

/** Node-side format options carried to the node agent in the volume context. */
export const FORMAT_KEYS = ['blockSize', 'inodeSize', 'bytesPerInode', 'numberOfInodes', 'ext4BigAlloc', 'ext4ClusterSize'] as const;

export const PVC_NAME = 'csi.storage.k8s.io/pvc/name';
export const PVC_NAMESPACE = 'csi.storage.k8s.io/pvc/namespace';
export const PV_NAME = 'csi.storage.k8s.io/pv/name';
export const FS_TYPE = 'csi.storage.k8s.io/fstype';

export interface VolumeParams {
  type: VolumeType;
  iops?: number;
  iopsPerGB?: number;
  allowAutoIopsPerGbIncrease: boolean;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  fsType?: string;
  /** User tags from tagSpecification_N. */
  tags: Record<string, string>;
  pvcName?: string;
  pvcNamespace?: string;
  pvName?: string;
  /** Passed through to the node agent in the volume context, with the canonical key spelling. */
  format: Partial<Record<(typeof FORMAT_KEYS)[number], string>>;
}

/** VolumeParams as a job carries them through Redis. */
export const volumeParamsSchema: z.ZodType<VolumeParams> = z.object({
  type: z.enum(VOLUME_TYPES),
  iops: z.number().optional(),
  iopsPerGB: z.number().optional(),
  allowAutoIopsPerGbIncrease: z.boolean(),
  throughput: z.number().optional(),
  encrypted: z.boolean(),
  kmsKeyId: z.string().optional(),
  fsType: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  pvcName: z.string().optional(),
  pvcNamespace: z.string().optional(),
  pvName: z.string().optional(),
  format: z.partialRecord(z.enum(FORMAT_KEYS), z.string()),
});

const FS_TYPES = new Set(['ext4', 'ext3', 'xfs']);

function positiveInt(key: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw invalidArgument(`parameter ${key}: expected a positive integer, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw invalidArgument(`parameter ${key}: expected a positive integer, got "${value}"`);
  return n;
}

function bool(key: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidArgument(`parameter ${key}: expected "true" or "false", got "${value}"`);
}

/** Tag keys EC2 or Plinth reserve; users may not set them. */
function checkUserTag(key: string, param: string): void {
  if (key.toLowerCase().startsWith('aws:')) throw invalidArgument(`parameter ${param}: tag key "${key}" uses the reserved "aws:" prefix`);
  if (key === 'CSIVolumeName' || key.startsWith('plinth.dev/')) throw invalidArgument(`parameter ${param}: tag key "${key}" is reserved by Plinth`);
  if (key.length > 128) throw invalidArgument(`parameter ${param}: tag key longer than 128 characters`);
}

/**
 * A `tagSpecification_N` parameter ("key=value", aws-ebs-csi-driver's spelling,
 * key matched case-insensitively) as a checked [key, value]; undefined for any
 * other parameter. Shared by StorageClass, VolumeAttributesClass and
 * VolumeSnapshotClass parameters.
 */
export function tagSpecification(rawKey: string, value: string): [string, string] | undefined {
  if (!/^tagspecification_\d+$/i.test(rawKey)) return undefined;
  const eq = value.indexOf('=');
  if (eq <= 0) throw invalidArgument(`parameter ${rawKey}: expected "key=value", got "${value}"`);
  const tagKey = value.slice(0, eq).trim();
  checkUserTag(tagKey, rawKey);
  return [tagKey, value.slice(eq + 1).trim()];
}

function parseType(value: string): VolumeType {
  const t = value.trim().toLowerCase();
  if (!isVolumeType(t)) throw invalidArgument(`parameter type: unknown volume type "${value}"; one of ${VOLUME_TYPES.join(', ')}`);
  return t;
}

/**
 * Parses StorageClass parameters, spelled as aws-ebs-csi-driver spells them
 * (keys are matched case-insensitively, as there). An unknown key is
 * INVALID_ARGUMENT naming the key.
 */
export function parseVolumeParams(params: Record<string, string>): VolumeParams {
  const out: VolumeParams = { type: 'gp3', allowAutoIopsPerGbIncrease: false, encrypted: false, tags: {}, format: {} };
  for (const [rawKey, value] of Object.entries(params)) {
    const key = rawKey.toLowerCase();
    const tag = tagSpecification(rawKey, value);
    if (tag) {
      out.tags[tag[0]] = tag[1];
      continue;
    }
    const formatKey = FORMAT_KEYS.find((k) => k.toLowerCase() === key);
    if (formatKey) {
      out.format[formatKey] = value;
      continue;
    }
    switch (key) {
      case 'type':
        out.type = parseType(value);
        break;
      case 'iops':
        out.iops = positiveInt(rawKey, value);
        break;
      case 'iopspergb':
        out.iopsPerGB = positiveInt(rawKey, value);
        break;
      case 'allowautoiopspergbincrease':
        out.allowAutoIopsPerGbIncrease = bool(rawKey, value);
        break;
      case 'throughput':
        out.throughput = positiveInt(rawKey, value);
        break;
      case 'encrypted':
        out.encrypted = bool(rawKey, value);
        break;
      case 'kmskeyid':
        if (!value.trim()) throw invalidArgument('parameter kmsKeyId: must not be empty');
        out.kmsKeyId = value.trim();
        break;
      case 'fstype':
      case FS_TYPE: {
        const fs = value.trim().toLowerCase();
        if (!FS_TYPES.has(fs)) throw invalidArgument(`parameter ${rawKey}: unsupported filesystem "${value}"; one of ext4, ext3, xfs`);
        out.fsType = fs;
        break;
      }
      case PVC_NAME:
        out.pvcName = value;
        break;
      case PVC_NAMESPACE:
        out.pvcNamespace = value;
        break;
      case PV_NAME:
        out.pvName = value;
        break;
      default:
        throw invalidArgument(`unknown parameter "${rawKey}"`);
    }
  }
  checkVolumeParams(out);
  return out;
}

/** The checks between parameters (each one alone is checked as it is parsed). */
function checkVolumeParams(out: VolumeParams): void {
  const lim = limitsOf(out.type);
  if (out.iops !== undefined && out.iopsPerGB !== undefined) throw invalidArgument('parameters iops and iopsPerGB are mutually exclusive; set one');
  if ((out.iops !== undefined || out.iopsPerGB !== undefined) && !lim.iops) throw invalidArgument(`parameter iops: volume type ${out.type} does not take an IOPS setting`);
  if (out.throughput !== undefined && !lim.throughput) throw invalidArgument(`parameter throughput: only gp3 takes a throughput setting, not ${out.type}`);
  if (lim.throughput && out.throughput !== undefined && (out.throughput < lim.throughput.min || out.throughput > lim.throughput.max))
    throw invalidArgument(`parameter throughput: ${out.throughput} MiB/s is outside ${lim.throughput.min}-${lim.throughput.max} for ${out.type}`);
  if (lim.iopsRequired && out.iops === undefined && out.iopsPerGB === undefined) throw invalidArgument(`parameter iops or iopsPerGB is required for volume type ${out.type}`);
  if (out.kmsKeyId && !out.encrypted) throw invalidArgument('parameter kmsKeyId needs encrypted "true"');
}

/**
 * The most IOPS a volume of `sizeGiB` may have: the per-GiB ratio, but never
 * below the type's minimum (EC2 gives a 1 GiB gp3 its 3000 baseline IOPS).
 */
function ratioCap(lim: { min: number; perGiB: number }, sizeGiB: number): number {
  return Math.max(lim.min, lim.perGiB * sizeGiB);
}

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
        throw invalidArgument(`parameter iopsPerGB: ${p.iopsPerGB} × ${sizeGiB} GiB = ${iops} IOPS is below ${lim.min} for ${p.type}; set allowAutoIOPSPerGBIncrease "true" to round up`);
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

/**
 * What a VolumeAttributesClass may set (ControllerModifyVolume, and
 * CreateVolume's mutable_parameters): aws-ebs-csi-driver's mutable keys.
 */
export interface MutableParams {
  type?: VolumeType;
  iops?: number;
  throughput?: number;
  /** Tags to add or overwrite (CreateTags). */
  tags: Record<string, string>;
}

/**
 * Parses mutable parameters, keys matched case-insensitively. The PVC/PV
 * names the external-resizer may add (--extra-modify-metadata) are accepted
 * and change nothing; any other key is INVALID_ARGUMENT naming it.
 */
export function parseMutableParams(params: Record<string, string>): MutableParams {
  const out: MutableParams = { tags: {} };
  for (const [rawKey, value] of Object.entries(params)) {
    const key = rawKey.toLowerCase();
    const tag = tagSpecification(rawKey, value);
    if (tag) out.tags[tag[0]] = tag[1];
    else if (key === 'type') out.type = parseType(value);
    else if (key === 'iops') out.iops = positiveInt(rawKey, value);
    else if (key === 'throughput') out.throughput = positiveInt(rawKey, value);
    else if (key !== PVC_NAME && key !== PVC_NAMESPACE && key !== PV_NAME)
      throw invalidArgument(`unknown mutable parameter "${rawKey}"; a VolumeAttributesClass may set type, iops, throughput and tagSpecification_N`);
  }
  return out;
}

/**
 * StorageClass parameters with a VolumeAttributesClass's on top (CreateVolume's
 * mutable_parameters win). A class that picks another type drops the
 * StorageClass's IOPS or throughput where the new type takes none.
 */
export function withMutableParams(p: VolumeParams, m: MutableParams): VolumeParams {
  const out: VolumeParams = { ...p, tags: { ...p.tags, ...m.tags } };
  if (m.type !== undefined && m.type !== p.type) {
    out.type = m.type;
    const lim = limitsOf(m.type);
    if (!lim.iops) {
      delete out.iops;
      delete out.iopsPerGB;
    }
    if (!lim.throughput) delete out.throughput;
  }
  if (m.iops !== undefined) {
    out.iops = m.iops;
    delete out.iopsPerGB;
  }
  if (m.throughput !== undefined) out.throughput = m.throughput;
  checkVolumeParams(out);
  return out;
}

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
    if (iops > ratioCap(lim.iops, sizeGiB)) throw invalidArgument(`${src}: ${iops} IOPS exceeds ${lim.iops.perGiB} IOPS per GiB for a ${sizeGiB} GiB ${type} volume`);
  }
  if (lim.throughput && throughput !== undefined) {
    const t = lim.throughput;
    if (throughput < t.min || throughput > t.max) throw invalidArgument(`parameter throughput: ${throughput} MiB/s is outside ${t.min}-${t.max} for ${type}`);
    if (iops !== undefined && throughput > iops * t.perIops)
      throw invalidArgument(`parameter throughput: ${throughput} MiB/s is more than ${t.perIops} MiB/s per IOPS allows with ${iops} IOPS (at most ${Math.floor(iops * t.perIops)})`);
  }
}
