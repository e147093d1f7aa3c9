import { TAG_COPY_RETAIN, TAG_COPY_TO_REGION, TAG_SNAPSHOT_NAME, type Tags } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import { z } from 'zod';
import { COPY_PARAMS, copyParamsSchema, parseCopyParams, type CopyParams } from './copy-params.js';
import { TagTemplates } from './tags.js';

/** What external-snapshotter's --extra-create-metadata adds, and the tags Plinth makes of them (aws-ebs-csi-driver's `kubernetes.io/created-for/…` style). */
const SNAPSHOT_METADATA = {
  'csi.storage.k8s.io/volumesnapshot/name': { tag: 'kubernetes.io/created-for/volumesnapshot/name', field: 'VolumeSnapshotName' },
  'csi.storage.k8s.io/volumesnapshot/namespace': { tag: 'kubernetes.io/created-for/volumesnapshot/namespace', field: 'VolumeSnapshotNamespace' },
  'csi.storage.k8s.io/volumesnapshotcontent/name': { tag: 'kubernetes.io/created-for/volumesnapshotcontent/name', field: 'VolumeSnapshotContentName' },
} as const;

export const FAST_RESTORE_ZONES = 'fastSnapshotRestoreAvailabilityZones';

/** SnapshotParams as a job carries them through Redis. */
export const snapshotParamsSchema: z.ZodType<SnapshotParams> = z.object({
  tags: z.record(z.string(), z.string()),
  fastRestoreZones: z.array(z.string()),
  metadataTags: z.record(z.string(), z.string()),
  copy: copyParamsSchema.optional(),
});

export interface SnapshotParams {
  /** User tags from tagSpecification_N. */
  tags: Record<string, string>;
  /** Zones to enable fast snapshot restore in (empty: none). */
  fastRestoreZones: string[];
  /** The Kubernetes objects the snapshot is for, tag key → value. */
  metadataTags: Record<string, string>;
  /** A copy of the snapshot in another region (copySnapshotToRegion …), once it is completed. */
  copy?: CopyParams | undefined;
}

/** aws-ebs-csi-driver's snapshot parameters Plinth deliberately does not take, and why. */
const LOCK = 'Plinth does not lock snapshots (EC2 LockSnapshot); use your backup tooling or EC2 directly';
const REFUSED: Record<string, string> = {
  outpostarn: 'Plinth does not support AWS Outposts',
  lockmode: LOCK,
  lockduration: LOCK,
  lockexpirationdate: LOCK,
  lockcooloffperiod: LOCK,
};

const ZONE_NAME = /^[a-z]{2}-[a-z0-9-]+$/;
const COPY_KEYS = Object.fromEntries(Object.entries(COPY_PARAMS).map(([k, v]) => [k, v.toLowerCase()]));

/**
 * Parses VolumeSnapshotClass parameters as aws-ebs-csi-driver spells them
 * (keys matched case-insensitively): tagSpecification_N,
 * fastSnapshotRestoreAvailabilityZones (comma-separated zones) and the
 * snapshotter's metadata. Any other key is INVALID_ARGUMENT naming it.
 */
export function parseSnapshotParams(params: Record<string, string>, ownRegion = ''): SnapshotParams {
  const out: SnapshotParams = { tags: {}, fastRestoreZones: [], metadataTags: {} };
  const copy = new Map<string, { key: string; value: string }>();
  const templates = new TagTemplates();
  const data = { VolumeSnapshotName: '', VolumeSnapshotNamespace: '', VolumeSnapshotContentName: '' };
  for (const [rawKey, value] of Object.entries(params)) {
    if (templates.add(rawKey, value)) continue;
    const key = rawKey.toLowerCase();
    const meta = Object.entries(SNAPSHOT_METADATA).find(([k]) => k === key);
    if (meta) {
      out.metadataTags[meta[1].tag] = value;
      data[meta[1].field] = value;
    } else if (key === FAST_RESTORE_ZONES.toLowerCase()) {
      const zones = value.split(',').map((z) => z.trim());
      const bad = zones.find((z) => !ZONE_NAME.test(z));
      if (bad !== undefined) throw invalidArgument(`parameter ${rawKey}: expected comma-separated availability zone names such as us-east-1a, got "${bad}"`);
      out.fastRestoreZones = [...new Set(zones)];
    } else if (key.startsWith('copysnapshot') && Object.values(COPY_KEYS).includes(key)) {
      copy.set(key, { key: rawKey, value });
    } else if (REFUSED[key]) {
      throw invalidArgument(`snapshot parameter "${rawKey}" is not supported: ${REFUSED[key]}`);
    } else {
      throw invalidArgument(
        `unknown snapshot parameter "${rawKey}"; a VolumeSnapshotClass may set tagSpecification_N, ${FAST_RESTORE_ZONES} and ${Object.values(COPY_PARAMS).join(', ')}`,
      );
    }
  }
  out.copy = parseCopyParams(copy, ownRegion);
  out.tags = templates.evaluate(data);
  return out;
}

/** The tags a CSI snapshot is created with (in the CreateSnapshot call itself): ownership first (the class may override `Name`, as there), extra tags, the class's, metadata. */
export function snapshotTags(name: string, owner: { extraTags: Tags; ownerTags(kind: 'snapshot', name: string): Tags }, p: SnapshotParams): Tags {
  const copy: Tags = p.copy ? { [TAG_COPY_TO_REGION]: p.copy.region, ...(p.copy.retain ? { [TAG_COPY_RETAIN]: 'true' } : {}) } : {};
  return { ...owner.ownerTags('snapshot', name), ...owner.extraTags, ...p.tags, ...p.metadataTags, ...copy, [TAG_SNAPSHOT_NAME]: name };
}
