import { TAG_GROUP_ID, TAG_GROUP_NAME, type SnapshotInfo as Snapshot, type Tags } from '@plinth/cloud';
import { alreadyExists, invalidArgument, notFound } from '@plinth/errors';
import { defineOperation, differingFields, type Handler, type OpContext } from '@plinth/queue';
import { z } from 'zod';
import type { Cloud } from '../cloud.js';
import { planGroup } from '../group-snapshots.js';
import { removeSnapshot } from './delete-snapshot.js';

export interface CreateGroupSnapshotJob {
  name: string;
  groupId: string;
  /** Sorted, unique. */
  volumeIds: string[];
  /** User tags from the VolumeGroupSnapshotClass (tagSpecification_N). */
  tags: Record<string, string>;
}

export interface DeleteGroupSnapshotJob {
  groupId: string;
  snapshotIds: string[];
}

/** CreateVolumeGroupSnapshot, keyed by the group's name; a concurrent call for other volumes is ALREADY_EXISTS. */
export const createGroupSnapshotOperation = defineOperation<CreateGroupSnapshotJob, Snapshot[]>({
  name: 'create-group-snapshot',
  data: z.object({ name: z.string(), groupId: z.string(), volumeIds: z.array(z.string()), tags: z.record(z.string(), z.string()) }),
  key: (job) => job.name,
  locks: (job) => [`group-snapshot:${job.groupId}`],
  describe: (job) => `group snapshot "${job.name}"`,
  conflicts: (mine, theirs) => differingFields(mine, theirs, { volumeIds: 'source volumes' }),
});

export const deleteGroupSnapshotOperation = defineOperation<DeleteGroupSnapshotJob, Record<string, never>>({
  name: 'delete-group-snapshot',
  data: z.object({ groupId: z.string(), snapshotIds: z.array(z.string()) }),
  key: (job) => job.groupId,
  locks: (job) => [`group-snapshot:${job.groupId}`],
  describe: (job) => `group snapshot ${job.groupId}`,
  conflicts: (mine, theirs) => differingFields(mine, theirs, { snapshotIds: 'snapshot ids' }),
});

/** The member snapshots of a group in this cluster. */
export async function groupMembers(cloud: Cloud, groupId: string, signal?: AbortSignal): Promise<Snapshot[]> {
  return (await cloud.api.snapshots.findByTag(cloud.clusterId, TAG_GROUP_ID, [groupId], signal)).get(groupId) ?? [];
}

const sources = (snaps: Snapshot[]) => new Set(snaps.map((s) => s.volumeId ?? ''));

/**
 * CreateVolumeGroupSnapshot's EC2 work. The group is its tag: a retry finds
 * the members already taken and takes only what is missing. Volumes attached
 * to one instance are snapshotted by one CreateSnapshots call (one point in
 * time); volumes attached nowhere get a CreateSnapshot each.
 */
export function createGroupSnapshotOp(cloud: Cloud): Handler<CreateGroupSnapshotJob, Snapshot[]> {
  return async (job, ctx) => {
    const existing = await groupMembers(cloud, job.groupId, ctx.signal);
    const wanted = new Set(job.volumeIds);
    const stranger = [...sources(existing)].find((v) => !wanted.has(v));
    if (stranger) throw alreadyExists(`group snapshot "${job.name}" exists with other source volumes (it includes ${stranger})`);
    const have = sources(existing);
    const missing = job.volumeIds.filter((v) => !have.has(v));
    if (missing.length === 0) return existing;

    const found = await cloud.api.volumes.get(missing, ctx.signal);
    const unknown = missing.filter((v) => !found.has(v));
    if (unknown.length > 0) throw notFound(`source volume ${unknown.join(', ')} not found`);
    const plan = planGroup([...found.values()]);
    const tags = { ...cloud.ownerTags('snapshot', job.name), ...cloud.extraTags, ...job.tags, [TAG_GROUP_ID]: job.groupId, [TAG_GROUP_NAME]: job.name };
    const description = `Created by Plinth for group snapshot ${job.name}`;
    const taken: Snapshot[] = [...existing];
    if (plan.instanceId) taken.push(...(await snapshotInstance(cloud, plan.instanceId, plan.attached, tags, description, ctx)));
    for (const volumeId of plan.detached) taken.push(await cloud.api.snapshots.create({ volumeId, description, tags }, ctx.signal));
    ctx.log.info({ groupId: job.groupId, snapshots: taken.map((s) => s.id), instanceId: plan.instanceId }, 'group snapshot taken');
    return taken;
  };
}

/** One CreateSnapshots of `volumeIds` on `instanceId`, excluding the instance's other volumes. */
async function snapshotInstance(cloud: Cloud, instanceId: string, volumeIds: string[], tags: Tags, description: string, ctx: OpContext): Promise<Snapshot[]> {
  // Fresh, not cached: the exclusion list must name every volume attached right now.
  const instance = (await cloud.api.instances.get([instanceId], ctx.signal)).get(instanceId);
  if (!instance) throw notFound(`instance ${instanceId}, to which the source volumes are attached, not found`);
  const mappings = instance.blockDevices;
  const boot = mappings.find((m) => m.device === instance.rootDevice)?.volumeId;
  const inGroup = new Set(volumeIds);
  const others = mappings.map((m) => m.volumeId).filter((v): v is string => !!v && v !== boot && !inGroup.has(v));
  const infos = await cloud.api.snapshots.createForInstance(
    { instanceId, excludeVolumeIds: others, excludeBootVolume: !(boot && inGroup.has(boot)), tags, description },
    ctx.signal,
  );
  // Anything beyond the group (a volume attached since the Describe, or an EC2 API that ignored the exclusions) is removed at once.
  const extra = infos.filter((i) => !inGroup.has(i.volumeId ?? ''));
  for (const e of extra) await removeSnapshot(cloud, e.id, ctx.signal);
  if (extra.length > 0)
    ctx.log.warn({ instanceId, removed: extra.map((e) => e.id) }, 'CreateSnapshots returned snapshots of volumes outside the group; deleted them');
  const taken = infos.filter((i) => inGroup.has(i.volumeId ?? ''));
  const missed = volumeIds.filter((v) => !taken.some((t) => t.volumeId === v));
  // A volume detached between the Describe and CreateSnapshots: fail, and let the retry re-plan.
  if (missed.length > 0) throw notFound(`volume ${missed.join(', ')} is no longer attached to ${instanceId}; retrying the group snapshot`);
  return taken;
}

/** DeleteVolumeGroupSnapshot's EC2 work: every member deleted; members already gone are success. */
export function deleteGroupSnapshotOp(cloud: Cloud): Handler<DeleteGroupSnapshotJob, Record<string, never>> {
  return async (job, ctx) => {
    const members = await groupMembers(cloud, job.groupId, ctx.signal);
    if (job.snapshotIds.length > 0) {
      const listed = new Set(job.snapshotIds);
      const unlisted = members.filter((m) => !listed.has(m.id));
      if (unlisted.length > 0)
        throw invalidArgument(`snapshot_ids does not match group snapshot ${job.groupId}: it lacks ${unlisted.map((m) => m.id).join(', ')}`);
    }
    for (const m of members) await removeSnapshot(cloud, m.id, ctx.signal);
    ctx.log.info({ groupId: job.groupId, deleted: members.map((m) => m.id) }, 'group snapshot deleted');
    return {};
  };
}
