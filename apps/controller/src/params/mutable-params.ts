import { invalidArgument } from '@plinth/errors';
import { TAG_AUTO_IOPS_ON_MODIFY, TAG_IOPS_PER_GB } from './iops.js';
import { tagDeletion, TagTemplates, volumeTemplateData } from './tags.js';
import { bool, parseType, positiveInt } from './values.js';
import { checkVolumeParams, PV_NAME, PVC_NAME, PVC_NAMESPACE, type VolumeParams, type Warn } from './volume-params.js';
import { limitsOf, type VolumeType } from './volume-types.js';

/**
 * What a VolumeAttributesClass may set (ControllerModifyVolume, and
 * CreateVolume's mutable_parameters): aws-ebs-csi-driver's mutable keys.
 */
export interface MutableParams {
  type?: VolumeType;
  iops?: number;
  /** IOPS per GiB: kept on the volume (tag) and applied when allowAutoIOPSIncreaseOnModify is on. */
  iopsPerGB?: number;
  allowAutoIopsIncreaseOnModify?: boolean;
  throughput?: number;
  /** Tags to add or overwrite (CreateTags), templates evaluated. */
  tags: Record<string, string>;
  /** Tag keys to delete (DeleteTags). */
  deleteTags: string[];
}

/**
 * Parses mutable parameters, keys matched case-insensitively. `volumeType` is
 * the older spelling of `type` (deprecated: `type` wins, a warning either
 * way). The PVC/PV names the external-resizer adds (--extra-modify-metadata)
 * fill tag templates; any other key is INVALID_ARGUMENT naming it.
 */
export function parseMutableParams(params: Record<string, string>, warn: Warn = () => undefined): MutableParams {
  const out: MutableParams = { tags: {}, deleteTags: [] };
  const templates = new TagTemplates();
  const names: { pvcName?: string; pvcNamespace?: string; pvName?: string } = {};
  const hasType = Object.keys(params).some((k) => k.toLowerCase() === 'type');
  for (const [rawKey, value] of Object.entries(params)) {
    const key = rawKey.toLowerCase();
    if (templates.add(rawKey, value)) continue;
    const del = tagDeletion(rawKey, value);
    if (del !== undefined) out.deleteTags.push(del);
    else if (key === 'type') out.type = parseType(value);
    else if (key === 'volumetype') {
      warn(`parameter ${rawKey} is deprecated; use type${hasType ? ' (type is set and wins)' : ''}`);
      if (!hasType) out.type = parseType(value);
    } else if (key === 'iops') out.iops = positiveInt(rawKey, value);
    else if (key === 'iopspergb') out.iopsPerGB = positiveInt(rawKey, value);
    else if (key === 'allowautoiopsincreaseonmodify') out.allowAutoIopsIncreaseOnModify = bool(rawKey, value);
    else if (key === 'throughput') out.throughput = positiveInt(rawKey, value);
    else if (key === PVC_NAME) names.pvcName = value;
    else if (key === PVC_NAMESPACE) names.pvcNamespace = value;
    else if (key === PV_NAME) names.pvName = value;
    else
      throw invalidArgument(
        `unknown mutable parameter "${rawKey}"; a VolumeAttributesClass may set type, iops, iopsPerGB, allowAutoIOPSIncreaseOnModify, throughput, tagSpecification_N and tagDeletion_N`,
      );
  }
  if (out.iops !== undefined && out.iopsPerGB !== undefined) throw invalidArgument('parameters iops and iopsPerGB are mutually exclusive; set one');
  out.tags = templates.evaluate(volumeTemplateData(names));
  return out;
}

/** The tags that keep a class's iopsPerGB and allowAutoIOPSIncreaseOnModify on the volume, for ControllerExpandVolume. */
export function iopsTags(p: { iopsPerGB?: number | undefined; allowAutoIopsIncreaseOnModify?: boolean | undefined }): Record<string, string> {
  const tags: Record<string, string> = {};
  if (p.iopsPerGB !== undefined) tags[TAG_IOPS_PER_GB] = String(p.iopsPerGB);
  if (p.allowAutoIopsIncreaseOnModify !== undefined) tags[TAG_AUTO_IOPS_ON_MODIFY] = String(p.allowAutoIopsIncreaseOnModify);
  return tags;
}

/**
 * StorageClass parameters with a VolumeAttributesClass's on top (CreateVolume's
 * mutable_parameters win). A class that picks another type drops the
 * StorageClass's IOPS or throughput where the new type takes none.
 */
export function withMutableParams(p: VolumeParams, m: MutableParams): VolumeParams {
  if (m.deleteTags.length > 0) throw invalidArgument('mutable parameter tagDeletion_N applies to an existing volume, not to CreateVolume');
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
  if (m.iopsPerGB !== undefined) {
    out.iopsPerGB = m.iopsPerGB;
    delete out.iops;
  }
  if (m.allowAutoIopsIncreaseOnModify !== undefined) out.allowAutoIopsIncreaseOnModify = m.allowAutoIopsIncreaseOnModify;
  if (m.throughput !== undefined) out.throughput = m.throughput;
  checkVolumeParams(out);
  return out;
}
