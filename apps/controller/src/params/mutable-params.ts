import { invalidArgument } from '@plinth/errors';
import { tagSpecification } from './tags.js';
import { parseType, positiveInt } from './values.js';
import { checkVolumeParams, PV_NAME, PVC_NAME, PVC_NAMESPACE, type VolumeParams } from './volume-params.js';
import { limitsOf, type VolumeType } from './volume-types.js';

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
