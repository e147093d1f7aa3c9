import { createHash } from 'node:crypto';
import { causeCode, TAG_CSI_NAME, type Tags, type VolumeInfo, type VolumeSpec } from '@plinth/cloud';
import { alreadyExists, notFound, unavailable } from '@plinth/errors';
import { defineOperation, differingFields, type Handler, type OpContext } from '@plinth/queue';
import { z } from 'zod';
import type { Cloud } from '../cloud.js';
import { GiB } from '../capacity.js';
import { iopsTags } from '../params/mutable-params.js';
import { volumeParamsSchema, type VolumeParams } from '../params/volume-params.js';
import { contentSourceSchema, contentSourceTag, TAG_CONTENT_SOURCE, type ContentSource } from '../content-source.js';
import type { NamesSeen } from '../names-seen.js';
import { cloneVolume, removeCloneSnapshots, restoreReady, type Cloner } from './clone-volume.js';

export interface CreateVolumeJob {
  name: string;
  sizeGiB: number;
  /** The capacity range asked for, to judge whether an existing volume is compatible. */
  requiredBytes: number;
  limitBytes: number;
  zone: string;
  /** Zones the volume may be in (empty: any). */
  allowedZones: string[];
  params: VolumeParams;
  iops?: number | undefined;
  multiAttach: boolean;
  /** The volume's content: a snapshot to restore or a volume to clone. */
  source?: ContentSource | undefined;
}

/**
 * CreateVolume, keyed by the CSI name. A call that arrives while another
 * with the same name is in flight shares its volume only if that volume
 * satisfies it too; otherwise ALREADY_EXISTS names what differs.
 */
export const createVolumeOperation = defineOperation<CreateVolumeJob, CreatedVolume>({
  name: 'create',
  data: z.object({
    name: z.string(),
    sizeGiB: z.number(),
    requiredBytes: z.number(),
    limitBytes: z.number(),
    zone: z.string(),
    allowedZones: z.array(z.string()),
    params: volumeParamsSchema,
    iops: z.number().optional(),
    multiAttach: z.boolean(),
    source: contentSourceSchema.optional(),
  }),
  key: (job) => job.name,
  locks: (job) => [`name:${job.name}`],
  describe: (job) => `volume "${job.name}"`,
  conflicts: requestConflicts,
});

/** Why the volume `theirs` will create does not satisfy `mine` (the same name asked for at the same time). */
export function requestConflicts(mine: CreateVolumeJob, theirs: CreateVolumeJob): string[] {
  const out: string[] = [];
  const size = theirs.sizeGiB * GiB;
  if (size < mine.requiredBytes || (mine.limitBytes > 0 && size > mine.limitBytes)) out.push(`size ${mine.sizeGiB} GiB, not ${theirs.sizeGiB} GiB`);
  out.push(...differingFields(mine.params, theirs.params, { type: 'type', throughput: 'throughput', encrypted: 'encrypted', kmsKeyId: 'kmsKeyId' }));
  out.push(...differingFields(mine, theirs, { iops: 'iops', multiAttach: 'multi-attach', source: 'content source' }));
  if (mine.allowedZones.length > 0 && !mine.allowedZones.includes(theirs.zone)) out.push(`zone one of ${mine.allowedZones.join(', ')}, not ${theirs.zone}`);
  return out;
}

export interface CreatedVolume {
  volumeId: string;
  sizeGiB: number;
  zone: string;
}

/** EC2's idempotency token for a CSI name (≤ 64 ASCII characters). */
export function clientToken(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 64);
}

/** A volume's tags, in aws-ebs-csi-driver's order: ownership tags first, so the class's may override `Name` and `KubernetesCluster` (the others are reserved). */
function tagsFor(job: CreateVolumeJob, cloud: Cloud): Tags {
  const tags: Record<string, string> = {
    ...cloud.ownerTags('volume', job.name),
    ...cloud.extraTags,
    ...job.params.tags,
    ...iopsTags({ iopsPerGB: job.params.iopsPerGB, allowAutoIopsIncreaseOnModify: job.params.allowAutoIopsIncreaseOnModify || undefined }),
    [TAG_CSI_NAME]: job.name,
  };
  if (job.source) tags[TAG_CONTENT_SOURCE] = contentSourceTag(job.source);
  if (job.params.pvcName) tags['kubernetes.io/created-for/pvc/name'] = job.params.pvcName;
  if (job.params.pvcNamespace) tags['kubernetes.io/created-for/pvc/namespace'] = job.params.pvcNamespace;
  if (job.params.pvName) tags['kubernetes.io/created-for/pv/name'] = job.params.pvName;
  return tags;
}

/** Why an existing volume of this name does not match the request, or undefined when it does. */
export function incompatibility(v: VolumeInfo, job: CreateVolumeJob): string | undefined {
  const size = v.sizeGiB * GiB;
  if (size < job.requiredBytes || (job.limitBytes > 0 && size > job.limitBytes)) return `its size ${v.sizeGiB} GiB is outside the requested capacity range`;
  if (v.type !== job.params.type) return `its type is ${v.type}, not ${job.params.type}`;
  if (job.iops !== undefined && v.iops !== job.iops) return `its IOPS are ${v.iops}, not ${job.iops}`;
  if (job.params.throughput !== undefined && v.throughput !== job.params.throughput) return `its throughput is ${v.throughput}, not ${job.params.throughput}`;
  if (v.encrypted !== job.params.encrypted) return `it is ${v.encrypted ? '' : 'not '}encrypted`;
  if (job.allowedZones.length > 0 && !job.allowedZones.includes(v.zone)) return `it is in zone ${v.zone}, outside the requested topology`;
  const had = sourceOf(v);
  const wanted = job.source ? contentSourceTag(job.source) : undefined;
  const say = (src: string | undefined) => (src ? src.replace(':', ' ') : 'no content source');
  if (had !== wanted) return `it was made from ${say(had)}, not ${say(wanted)}`;
  return undefined;
}

/** The content source a volume was made from, as TAG_CONTENT_SOURCE spells it (volumes made before the tag: from EC2's own fields). */
export function sourceOf(v: VolumeInfo): string | undefined {
  const tagged = v.tags[TAG_CONTENT_SOURCE];
  if (tagged) return tagged;
  if (v.sourceVolumeId) return `volume:${v.sourceVolumeId}`;
  if (v.snapshotId) return `snapshot:${v.snapshotId}`;
  return undefined;
}

const settled = (v: VolumeInfo | undefined) => v === undefined || v.state !== 'creating';

async function awaitAvailable(cloud: Cloud, volumeId: string, volumeType: string, ctx: OpContext): Promise<VolumeInfo> {
  const v = await cloud.watcher.waitFor(volumeId, settled, 5 * 60_000, { action: 'create', volumeType });
  if (v?.state === 'available' || v?.state === 'in-use') return v;
  // A volume that failed to create is of no use to anyone: remove it so the retry starts clean.
  if (v?.state === 'error') {
    ctx.log.warn({ volumeId }, 'volume entered the error state; deleting it');
    await cloud.api.volumes.delete(volumeId, ctx.signal).catch(() => undefined);
  }
  throw unavailable(`volume ${volumeId} ended in state ${v?.state ?? 'gone'} while being created; retrying`);
}

/**
 * CreateVolume's EC2 work. Runs under a lease on the name. When an earlier
 * attempt may have created the volume (a retried or recovered job, or another
 * request for the name), it looks the volume up by its CSI-name tag first (the
 * guarantee against duplicates where ClientToken is ignored, as LocalStack
 * does); the first attempt for a new name goes straight to CreateVolume, with
 * its ClientToken. It creates with tags in the same call so a crash cannot
 * leave an untagged volume behind.
 */
export function createVolumeOp(cloud: Cloud, seen: NamesSeen): Handler<CreateVolumeJob, CreatedVolume> {
  // Whether this EC2 endpoint offers CopyVolumes, learnt on the first clone.
  const cloner: Cloner = { copyVolumes: true };
  return async (job, ctx) => {
    // Recorded before any EC2 call, so a crash after CreateVolume leaves the name marked for the retry.
    const firstSight = await seen.firstSight(job.name);
    const mayExist = ctx.attempt > 1 || !firstSight;
    const existing = mayExist
      ? ((await cloud.byName.get(job.name)) ?? []).filter((v) => v.state !== 'deleting' && v.state !== 'deleted' && v.state !== 'error')
      : [];
    if (existing.length > 1) ctx.log.warn({ name: job.name, volumes: existing.map((v) => v.id) }, 'several volumes carry one CSI name; using the oldest');
    existing.sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
    const found = existing[0];
    if (found) {
      const why = incompatibility(found, job);
      if (why) throw alreadyExists(`volume "${job.name}" already exists as ${found.id} and ${why}`);
      const ready = found.state === 'creating' ? await awaitAvailable(cloud, found.id, found.type, ctx) : found;
      // A clone interrupted after its volume was made may have left its intermediate snapshot.
      if (job.source && 'volumeId' in job.source) await removeCloneSnapshots(cloud, job.name, ctx);
      return { volumeId: found.id, sizeGiB: ready.sizeGiB, zone: ready.zone || job.zone };
    }
    const spec = volumeSpec(job, cloud);
    let created: VolumeInfo;
    if (job.source && 'volumeId' in job.source) {
      created = await cloneVolume(cloud, cloner, job.source.volumeId, spec, ctx);
    } else {
      const snapshotId = job.source?.snapshotId;
      if (snapshotId) await restoreReady(cloud, snapshotId, ctx);
      // EC2 takes an initialization rate only for a volume restored from a snapshot.
      const initializationRate = snapshotId ? job.params.initializationRate : undefined;
      created = await cloud.api.volumes.create({ ...spec, snapshotId, initializationRate }, ctx.signal).catch((err: unknown) => {
        if (snapshotId && causeCode(err) === 'InvalidSnapshot.NotFound') throw notFound(`source snapshot ${snapshotId} not found`);
        throw err;
      });
    }
    const volumeId = created.id;
    ctx.log.info({ volumeId, name: job.name, zone: job.zone, sizeGiB: job.sizeGiB, source: job.source }, 'volume created');
    const ready = created.state === 'available' ? created : await awaitAvailable(cloud, volumeId, created.type, ctx);
    if (job.source && 'volumeId' in job.source) await removeCloneSnapshots(cloud, job.name, ctx);
    return { volumeId, sizeGiB: ready.sizeGiB || job.sizeGiB, zone: ready.zone || job.zone };
  };
}

/** The CreateVolume request for a job: tags in the same call, so a crash cannot leave an untagged volume behind. */
function volumeSpec(job: CreateVolumeJob, cloud: Cloud): VolumeSpec {
  return {
    zone: job.zone,
    sizeGiB: job.sizeGiB,
    type: job.params.type,
    iops: job.iops,
    throughput: job.params.throughput,
    encrypted: job.params.encrypted,
    kmsKeyId: job.params.kmsKeyId,
    multiAttach: job.multiAttach,
    clientToken: clientToken(job.name),
    tags: tagsFor(job, cloud),
  };
}
