import { isSnapshotId, isVolumeId, TAG_CLUSTER, TAG_GROUP_ID, TAG_SNAPSHOT_NAME, type SnapshotInfo, type Tags } from '@plinth/cloud';
import type { CapacityRange, Snapshot as CsiSnapshot, VolumeContentSource } from '@plinth/csi';
import { failedPrecondition, invalidArgument, notFound, outOfRange } from '@plinth/errors';
import { GiB } from './capacity.js';
import type { Deps } from './deps.js';
import { tagSpecification } from './params.js';
import { z } from 'zod';

export { TAG_CLUSTER, TAG_SNAPSHOT_NAME };

/** On a volume made from a snapshot or a volume: its CSI content source, `snapshot:<id>` or `volume:<id>` (how an idempotent CreateVolume compares sources). */
export const TAG_CONTENT_SOURCE = 'plinth.dev/content-source';
/** On the intermediate snapshot of a clone: the CSI name of the volume it is for (how a retried clone finds it, and how it is cleaned up). */
export const TAG_CLONE_FOR = 'plinth.dev/clone-for';

/** What external-snapshotter's --extra-create-metadata adds, and the tags Plinth makes of them (aws-ebs-csi-driver's `kubernetes.io/created-for/…` style). */
export const SNAPSHOT_METADATA = {
  'csi.storage.k8s.io/volumesnapshot/name': 'kubernetes.io/created-for/volumesnapshot/name',
  'csi.storage.k8s.io/volumesnapshot/namespace': 'kubernetes.io/created-for/volumesnapshot/namespace',
  'csi.storage.k8s.io/volumesnapshotcontent/name': 'kubernetes.io/created-for/volumesnapshotcontent/name',
} as const;

export const FAST_RESTORE_ZONES = 'fastSnapshotRestoreAvailabilityZones';

/** SnapshotParams as a job carries them through Redis. */
export const snapshotParamsSchema: z.ZodType<SnapshotParams> = z.object({
  tags: z.record(z.string(), z.string()),
  fastRestoreZones: z.array(z.string()),
  metadataTags: z.record(z.string(), z.string()),
});

export interface SnapshotParams {
  /** User tags from tagSpecification_N. */
  tags: Record<string, string>;
  /** Zones to enable fast snapshot restore in (empty: none). */
  fastRestoreZones: string[];
  /** The Kubernetes objects the snapshot is for, tag key → value. */
  metadataTags: Record<string, string>;
}

const ZONE_NAME = /^[a-z]{2}-[a-z0-9-]+$/;

/**
 * Parses VolumeSnapshotClass parameters as aws-ebs-csi-driver spells them
 * (keys matched case-insensitively): tagSpecification_N,
 * fastSnapshotRestoreAvailabilityZones (comma-separated zones) and the
 * snapshotter's metadata. Any other key is INVALID_ARGUMENT naming it.
 */
export function parseSnapshotParams(params: Record<string, string>): SnapshotParams {
  const out: SnapshotParams = { tags: {}, fastRestoreZones: [], metadataTags: {} };
  for (const [rawKey, value] of Object.entries(params)) {
    const tag = tagSpecification(rawKey, value);
    if (tag) {
      if (tag[0] === TAG_SNAPSHOT_NAME) throw invalidArgument(`parameter ${rawKey}: tag key "${tag[0]}" is reserved by Plinth`);
      if (tag[1].length > 256) throw invalidArgument(`parameter ${rawKey}: tag value longer than 256 characters`);
      out.tags[tag[0]] = tag[1];
      continue;
    }
    const key = rawKey.toLowerCase();
    const meta = Object.entries(SNAPSHOT_METADATA).find(([k]) => k === key);
    if (meta) {
      out.metadataTags[meta[1]] = value;
    } else if (key === FAST_RESTORE_ZONES.toLowerCase()) {
      const zones = value.split(',').map((z) => z.trim());
      const bad = zones.find((z) => !ZONE_NAME.test(z));
      if (bad !== undefined) throw invalidArgument(`parameter ${rawKey}: expected comma-separated availability zone names such as us-east-1a, got "${bad}"`);
      out.fastRestoreZones = [...new Set(zones)];
    } else {
      throw invalidArgument(`unknown snapshot parameter "${rawKey}"; a VolumeSnapshotClass may set tagSpecification_N and ${FAST_RESTORE_ZONES}`);
    }
  }
  return out;
}

/** Fast snapshot restore zones must be zones of the region (INVALID_ARGUMENT naming the others), as aws-ebs-csi-driver checks. */
export async function checkFastRestoreZones(deps: Deps, zones: string[]): Promise<void> {
  const known = (await deps.cloud.api.zones.list({ all: true })).map((z) => z.name);
  const unknown = zones.filter((z) => !known.includes(z));
  if (unknown.length > 0) throw invalidArgument(`parameter ${FAST_RESTORE_ZONES}: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not zones' : 'is not a zone'} of this region (${known.join(', ')})`);
}

/** The tags a CSI snapshot is created with (in the CreateSnapshot call itself). */
export function snapshotTags(name: string, clusterId: string, p: SnapshotParams): Tags {
  return { ...p.tags, ...p.metadataTags, [TAG_SNAPSHOT_NAME]: name, [TAG_CLUSTER]: clusterId, Name: name };
}

/** An EC2 snapshot as a CSI Snapshot: ready to use once EC2 reports it `completed`; a member of a group snapshot names its group. */
export function toCsiSnapshot(s: SnapshotInfo): CsiSnapshot {
  return {
    snapshotId: s.id,
    sourceVolumeId: s.volumeId ?? '',
    sizeBytes: (s.sizeGiB ?? 0) * GiB,
    creationTime: s.startedAt ? new Date(s.startedAt) : undefined,
    readyToUse: s.state === 'completed',
    groupSnapshotId: s.tags[TAG_GROUP_ID] ?? '',
  };
}

/** This cluster's CSI snapshots: those carrying a CSI snapshot name, or members of a group snapshot. */
export function isCsiSnapshot(s: SnapshotInfo): boolean {
  return s.tags[TAG_SNAPSHOT_NAME] !== undefined || s.tags[TAG_GROUP_ID] !== undefined;
}

/** A CSI Snapshot as a job result carries it (JSON: the time as epoch ms). */
export type SnapshotResult = Omit<CsiSnapshot, 'creationTime'> & { creationMs: number | null };

export function snapshotResult(s: CsiSnapshot): SnapshotResult {
  const { creationTime, ...rest } = s;
  return { ...rest, creationMs: creationTime ? creationTime.getTime() : null };
}

export function fromSnapshotResult(r: SnapshotResult): CsiSnapshot {
  const { creationMs, ...rest } = r;
  return { ...rest, creationTime: creationMs === null ? undefined : new Date(creationMs) };
}

/** A CreateVolume content source, as a job carries it. */
export type ContentSource = { snapshotId: string } | { volumeId: string };
export const contentSourceSchema: z.ZodType<ContentSource> = z.union([z.object({ snapshotId: z.string() }), z.object({ volumeId: z.string() })]);

/**
 * The content source of a CreateVolume request, checked: exactly one of
 * snapshot and volume, with an id. An id that cannot be an EBS snapshot or
 * volume names nothing, so it is NOT_FOUND (as csi-sanity expects).
 */
export function contentSourceOf(src: VolumeContentSource | undefined): ContentSource | undefined {
  if (!src) return undefined;
  if (src.snapshot && src.volume) throw invalidArgument('volume_content_source: set either snapshot or volume, not both');
  if (src.snapshot) {
    const id = src.snapshot.snapshotId;
    if (!id) throw invalidArgument('volume_content_source.snapshot.snapshot_id is required');
    if (!isSnapshotId(id)) throw notFound(`source snapshot ${id} not found (not an EBS snapshot id)`);
    return { snapshotId: id };
  }
  if (src.volume) {
    const id = src.volume.volumeId;
    if (!id) throw invalidArgument('volume_content_source.volume.volume_id is required');
    if (!isVolumeId(id)) throw notFound(`source volume ${id} not found (not an EBS volume id)`);
    return { volumeId: id };
  }
  throw invalidArgument('volume_content_source: set a snapshot or a volume');
}

/** The value of TAG_CONTENT_SOURCE for a source. */
export function contentSourceTag(src: ContentSource): string {
  return 'snapshotId' in src ? `snapshot:${src.snapshotId}` : `volume:${src.volumeId}`;
}

export function toCsiContentSource(src: ContentSource | undefined): VolumeContentSource | undefined {
  if (!src) return undefined;
  return 'snapshotId' in src ? { snapshot: { snapshotId: src.snapshotId } } : { volume: { volumeId: src.volumeId } };
}

/** What CreateVolume needs to know of its source. */
export interface SourceFacts {
  /** The source's size (0: unknown, the source is gone but the volume made from it exists). */
  sizeGiB: number;
  /** An encrypted source always gives an encrypted volume. */
  encrypted: boolean;
  /** A volume source's zone: its clone is made there. */
  zone?: string | undefined;
  /** How to name the source in messages. */
  what: string;
}

/**
 * Looks the source up in EC2: NOT_FOUND when it does not exist, unless a
 * volume of this name was already made from it (a retried CreateVolume whose
 * source was deleted since must still find its volume). A failed snapshot is
 * FAILED_PRECONDITION.
 */
export async function sourceFacts(deps: Deps, src: ContentSource, name: string): Promise<SourceFacts> {
  if ('snapshotId' in src) {
    const what = `snapshot ${src.snapshotId}`;
    const snap = (await deps.cloud.api.snapshots.get([src.snapshotId])).get(src.snapshotId);
    if (snap?.state === 'error') throw failedPrecondition(`source ${what} failed in EC2 (state error); it cannot be restored`);
    if (snap) return { sizeGiB: snap.sizeGiB ?? 0, encrypted: snap.encrypted, what };
    return madeAlready(deps, src, name, what);
  }
  const what = `volume ${src.volumeId}`;
  const vol = await deps.cloud.volumes.get(src.volumeId);
  if (vol && vol.state !== 'deleting' && vol.state !== 'deleted' && vol.state !== 'error') return { sizeGiB: vol.sizeGiB, encrypted: vol.encrypted, zone: vol.zone, what };
  return madeAlready(deps, src, name, what);
}

async function madeAlready(deps: Deps, src: ContentSource, name: string, what: string): Promise<SourceFacts> {
  const tag = contentSourceTag(src);
  const made = ((await deps.cloud.byName.get(name)) ?? []).find((v) => v.state !== 'deleting' && v.state !== 'deleted' && v.tags[TAG_CONTENT_SOURCE] === tag);
  if (!made) throw notFound(`source ${what} not found`);
  return { sizeGiB: 0, encrypted: made.encrypted, zone: 'volumeId' in src ? made.zone : undefined, what };
}

/**
 * The size of a volume made from a source of `src.sizeGiB`: required_bytes
 * below the source's size is OUT_OF_RANGE (CSI's own example for the code),
 * as is a limit_bytes below it; with no required_bytes the volume gets the
 * source's size (at least the type's minimum). `sizeGiB` is what the range
 * alone gave.
 */
export function sizeForSource(range: CapacityRange | undefined, sizeGiB: number, src: { sizeGiB: number; what: string } | undefined, lim: { minGiB: number; maxGiB: number }): number {
  if (!src || src.sizeGiB <= 0) return sizeGiB;
  const required = range?.requiredBytes ?? 0;
  const limit = range?.limitBytes ?? 0;
  const srcBytes = src.sizeGiB * GiB;
  if (required > 0 && required < srcBytes) throw outOfRange(`capacity_range: required_bytes ${required} is smaller than the source ${src.what} (${src.sizeGiB} GiB)`);
  if (limit > 0 && limit < srcBytes) throw outOfRange(`capacity_range: limit_bytes ${limit} is smaller than the source ${src.what} (${src.sizeGiB} GiB)`);
  const size = required > 0 ? sizeGiB : Math.max(src.sizeGiB, lim.minGiB);
  if (size > lim.maxGiB) throw outOfRange(`capacity_range: ${size} GiB is more than the ${lim.maxGiB} GiB maximum for this volume type`);
  if (limit > 0 && size * GiB > limit) throw outOfRange(`capacity_range: no whole GiB size ≥ ${size} GiB fits under limit_bytes ${limit}`);
  return size;
}

/**
 * The zone of a clone: its source's (EBS copies a volume within its zone).
 * A requisite topology without that zone is INVALID_ARGUMENT; preferred
 * zones elsewhere are passed over.
 */
export function cloneZone(sourceZone: string, requisite: string[], what: string): string {
  if (requisite.length > 0 && !requisite.includes(sourceZone))
    throw invalidArgument(
      `accessibility_requirements: the source ${what} is in zone ${sourceZone}, outside the requisite zones (${requisite.join(', ')}); a clone is made in its source's zone`,
    );
  return sourceZone;
}
