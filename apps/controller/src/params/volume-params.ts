import { invalidArgument } from '@plinth/errors';
import { z } from 'zod';
import { TagTemplates, volumeTemplateData } from './tags.js';
import { bool, parseType, positiveInt } from './values.js';
import { limitsOf, VOLUME_TYPES, type VolumeType } from './volume-types.js';

/** Node-side format options carried to the node agent in the volume context. */
const FORMAT_KEYS = ['blockSize', 'inodeSize', 'bytesPerInode', 'numberOfInodes', 'ext4BigAlloc', 'ext4ClusterSize', 'ext4EncryptionSupport'] as const;
/** The volume-context key ControllerPublishVolume reads (aws-ebs-csi-driver's name). */
export const BLOCK_ATTACH_UNTIL_INITIALIZED = 'blockAttachUntilInitialized';
/** EC2's range for a provisioned volume initialization rate, MiB/s. */
const INIT_RATE = { min: 100, max: 300 };

export const PVC_NAME = 'csi.storage.k8s.io/pvc/name';
export const PVC_NAMESPACE = 'csi.storage.k8s.io/pvc/namespace';
export const PV_NAME = 'csi.storage.k8s.io/pv/name';
const FS_TYPE = 'csi.storage.k8s.io/fstype';

export interface VolumeParams {
  type: VolumeType;
  iops?: number;
  iopsPerGB?: number;
  allowAutoIopsPerGbIncrease: boolean;
  /** Keep iopsPerGB × size when the volume is expanded (tagged on the volume, read by ControllerExpandVolume). */
  allowAutoIopsIncreaseOnModify: boolean;
  throughput?: number;
  /** EC2's VolumeInitializationRate (MiB/s) for a volume restored from a snapshot. */
  initializationRate?: number;
  /** ControllerPublishVolume waits until EC2 reports the volume initialized. */
  blockAttachUntilInitialized: boolean;
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
  allowAutoIopsIncreaseOnModify: z.boolean(),
  throughput: z.number().optional(),
  initializationRate: z.number().optional(),
  blockAttachUntilInitialized: z.boolean(),
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

/** The provisioner's PVC/PV names among a StorageClass's parameters (they also fill a VolumeAttributesClass's tag templates). */
export function metadataOf(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => [PVC_NAME, PVC_NAMESPACE, PV_NAME].includes(k.toLowerCase())));
}

/** Where a parser reports what it accepted but warns about (deprecated keys). */
export type Warn = (message: string) => void;

/**
 * Parses StorageClass parameters, spelled as aws-ebs-csi-driver spells them
 * (keys are matched case-insensitively, as there). An unknown key is
 * INVALID_ARGUMENT naming the key; tag templates are evaluated with the PVC
 * and PV names the provisioner adds.
 */
export function parseVolumeParams(params: Record<string, string>, warn: Warn = () => undefined): VolumeParams {
  const out: VolumeParams = {
    type: 'gp3',
    allowAutoIopsPerGbIncrease: false,
    allowAutoIopsIncreaseOnModify: false,
    blockAttachUntilInitialized: false,
    encrypted: false,
    tags: {},
    format: {},
  };
  const templates = new TagTemplates();
  for (const [rawKey, value] of Object.entries(params)) {
    const key = rawKey.toLowerCase();
    if (templates.add(rawKey, value)) continue;
    const formatKey = FORMAT_KEYS.find((k) => k.toLowerCase() === key);
    if (formatKey === 'ext4EncryptionSupport') {
      if (bool(rawKey, value)) out.format.ext4EncryptionSupport = 'true';
      continue;
    }
    if (formatKey) {
      out.format[formatKey] = value;
      continue;
    }
    switch (key) {
      case 'blockexpress':
        warn(`parameter ${rawKey} is deprecated and has no effect: every io2 volume is Block Express (up to 256000 IOPS)`);
        break;
      case 'allowautoiopsincreaseonmodify':
        out.allowAutoIopsIncreaseOnModify = bool(rawKey, value);
        break;
      case 'volumeinitializationrate': {
        const rate = positiveInt(rawKey, value);
        if (rate < INIT_RATE.min || rate > INIT_RATE.max)
          throw invalidArgument(`parameter ${rawKey}: ${rate} MiB/s is outside EC2's ${INIT_RATE.min}-${INIT_RATE.max} MiB/s`);
        out.initializationRate = rate;
        break;
      }
      case BLOCK_ATTACH_UNTIL_INITIALIZED.toLowerCase():
        out.blockAttachUntilInitialized = bool(rawKey, value);
        break;
      case 'fstype':
        warn(`parameter ${rawKey} is deprecated; use csi.storage.k8s.io/fstype`);
        out.fsType = fsType(rawKey, value);
        break;
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
      case FS_TYPE:
        out.fsType = fsType(rawKey, value);
        break;
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
  out.tags = templates.evaluate(volumeTemplateData(out));
  checkVolumeParams(out);
  return out;
}

function fsType(rawKey: string, value: string): string {
  const fs = value.trim().toLowerCase();
  if (!FS_TYPES.has(fs)) throw invalidArgument(`parameter ${rawKey}: unsupported filesystem "${value}"; one of ext4, ext3, xfs`);
  return fs;
}

/** The checks between parameters (each one alone is checked as it is parsed). */
export function checkVolumeParams(out: VolumeParams): void {
  const lim = limitsOf(out.type);
  if (out.iops !== undefined && out.iopsPerGB !== undefined) throw invalidArgument('parameters iops and iopsPerGB are mutually exclusive; set one');
  if ((out.iops !== undefined || out.iopsPerGB !== undefined) && !lim.iops)
    throw invalidArgument(`parameter iops: volume type ${out.type} does not take an IOPS setting`);
  if (out.throughput !== undefined && !lim.throughput) throw invalidArgument(`parameter throughput: only gp3 takes a throughput setting, not ${out.type}`);
  if (lim.throughput && out.throughput !== undefined && (out.throughput < lim.throughput.min || out.throughput > lim.throughput.max))
    throw invalidArgument(`parameter throughput: ${out.throughput} MiB/s is outside ${lim.throughput.min}-${lim.throughput.max} for ${out.type}`);
  if (lim.iopsRequired && out.iops === undefined && out.iopsPerGB === undefined)
    throw invalidArgument(`parameter iops or iopsPerGB is required for volume type ${out.type}`);
  if (out.kmsKeyId && !out.encrypted) throw invalidArgument('parameter kmsKeyId needs encrypted "true"');
}
