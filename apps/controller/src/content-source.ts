import { isSnapshotId, isVolumeId } from '@plinth/cloud';
import type { VolumeContentSource } from '@plinth/csi';
import { failedPrecondition, invalidArgument, notFound } from '@plinth/errors';
import { z } from 'zod';
import type { Deps } from './deps.js';
import { refuseNodeLocal } from './node-local.js';

/** On a volume made from a snapshot or a volume: its CSI content source, `snapshot:<id>` or `volume:<id>` (how an idempotent CreateVolume compares sources). */
export const TAG_CONTENT_SOURCE = 'plinth.dev/content-source';
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
    refuseNodeLocal(id, 'cloned', 'volume_content_source.volume.volume_id');
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
async function sourceFacts(deps: Deps, src: ContentSource, name: string): Promise<SourceFacts> {
  if ('snapshotId' in src) {
    const what = `snapshot ${src.snapshotId}`;
    const snap = (await deps.cloud.api.snapshots.get([src.snapshotId])).get(src.snapshotId);
    if (snap?.state === 'error') throw failedPrecondition(`source ${what} failed in EC2 (state error); it cannot be restored`);
    if (snap) return { sizeGiB: snap.sizeGiB ?? 0, encrypted: snap.encrypted, what };
    return madeAlready(deps, src, name, what);
  }
  const what = `volume ${src.volumeId}`;
  const vol = await deps.cloud.volumes.get(src.volumeId);
  if (vol && vol.state !== 'deleting' && vol.state !== 'deleted' && vol.state !== 'error')
    return { sizeGiB: vol.sizeGiB, encrypted: vol.encrypted, zone: vol.zone, what };
  return madeAlready(deps, src, name, what);
}

async function madeAlready(deps: Deps, src: ContentSource, name: string, what: string): Promise<SourceFacts> {
  const tag = contentSourceTag(src);
  const made = ((await deps.cloud.byName.get(name)) ?? []).find((v) => v.state !== 'deleting' && v.state !== 'deleted' && v.tags[TAG_CONTENT_SOURCE] === tag);
  if (!made) throw notFound(`source ${what} not found`);
  return { sizeGiB: 0, encrypted: made.encrypted, zone: 'volumeId' in src ? made.zone : undefined, what };
}

/** A CreateVolume request's content source, checked and looked up in EC2 (undefined: an empty volume). */
export async function contentSourceFor(
  deps: Deps,
  src: VolumeContentSource | undefined,
  name: string,
): Promise<{ source: ContentSource; facts: SourceFacts } | undefined> {
  const source = contentSourceOf(src);
  return source ? { source, facts: await sourceFacts(deps, source, name) } : undefined;
}
