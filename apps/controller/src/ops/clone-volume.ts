import { setTimeout as sleep } from 'node:timers/promises';
import { causeCode, external, TAG_CSI_NAME, type Cloud as CloudApi, type SnapshotInfo, type VolumeInfo, type VolumeSpec } from '@plinth/cloud';
import { failedPrecondition, invalidArgument, isPlinthError, notFound, unavailable } from '@plinth/errors';
import type { OpContext } from '@plinth/queue';
import type { Cloud } from '../cloud.js';

/** On the intermediate snapshot of a clone: the CSI name of the volume it is for (how a retried clone finds it, and how it is cleaned up). */
const TAG_CLONE_FOR = 'plinth.dev/clone-for';

/** What the controller has learnt of its EC2 endpoint. */
export interface Cloner {
  /** False once EC2 said it does not offer CopyVolumes (LocalStack does not): clones go through a snapshot. */
  copyVolumes: boolean;
}

// The CSI name, not Name: with a Kubernetes cluster id, or a class's own Name tag, those differ.
const nameOf = (spec: VolumeSpec): string => spec.tags[TAG_CSI_NAME] ?? '?';

/**
 * Starts a clone of `sourceId` made as `input` describes (in the source's
 * zone): one CopyVolumes call where EC2 offers it, else a snapshot of the
 * source (tagged with the clone's name, so a retry finds it) and a volume
 * restored from it. The intermediate snapshot is removed by
 * removeCloneSnapshots once the clone is available.
 */
export async function cloneVolume(cloud: Cloud, cloner: Cloner, sourceId: string, spec: VolumeSpec, ctx: OpContext): Promise<VolumeInfo> {
  const name = nameOf(spec);
  const src = await cloud.volumes.get(sourceId);
  if (!src || src.state === 'deleting' || src.state === 'deleted' || src.state === 'error') throw notFound(`source volume ${sourceId} not found`);
  if (src.zone !== spec.zone) throw invalidArgument(`source volume ${sourceId} is in zone ${src.zone}, not ${spec.zone}; a clone is made in its source's zone`);
  if (cloner.copyVolumes) {
    try {
      const { zone: _zone, snapshotId: _snapshot, ...copy } = spec;
      return await cloud.api.volumes.copy({ ...copy, sourceVolumeId: sourceId }, ctx.signal);
    } catch (err) {
      if (!isPlinthError(err) || err.kind !== 'Unimplemented') throw err;
      cloner.copyVolumes = false;
      ctx.log.info({ sourceId }, 'this EC2 endpoint does not offer CopyVolumes; cloning through an intermediate snapshot from now on');
    }
  }
  const snap = await intermediateSnapshot(cloud, name, sourceId, ctx);
  const done = await snapshotCompleted(cloud.api, snap.id, ctx, async (failed) => {
    await cloud.api.snapshots.delete(failed, ctx.signal).catch(() => undefined);
    throw unavailable(`intermediate snapshot ${failed} of volume ${sourceId} failed in EC2; retrying the clone`);
  });
  return cloud.api.volumes.create({ ...spec, snapshotId: done.id }, ctx.signal);
}

/** The clone's intermediate snapshot: the one a previous attempt started, or a new one, tagged in the same call. */
async function intermediateSnapshot(cloud: Cloud, name: string, sourceId: string, ctx: OpContext): Promise<SnapshotInfo> {
  const found = (await cloud.api.snapshots.findByTag(cloud.clusterId, TAG_CLONE_FOR, [name], ctx.signal)).get(name) ?? [];
  let keep: SnapshotInfo | undefined;
  for (const s of found) {
    if (!keep && s.volumeId === sourceId && s.state !== 'error') keep = s;
    // Left by an attempt for another source, failed, or a duplicate: of no use.
    else await deleteIfThere(cloud.api, s.id, ctx);
  }
  if (keep) return keep;
  const snap = await cloud.api.snapshots.create(
    {
      volumeId: sourceId,
      description: `Plinth: intermediate snapshot for the clone "${name}" of ${sourceId}; deleted once the clone exists`,
      tags: { ...cloud.ownerTags('snapshot', name), [TAG_CLONE_FOR]: name, Name: `clone of ${sourceId} for ${name}`.slice(0, 256) },
    },
    ctx.signal,
  );
  ctx.log.info({ snapshotId: snap.id, sourceId, name }, 'intermediate snapshot for a clone started');
  return snap;
}

/** Deletes the intermediate snapshots of the clone `name` (once the clone exists, or when they are of no use). */
export async function removeCloneSnapshots(cloud: Cloud, name: string, ctx: OpContext): Promise<void> {
  const found = (await cloud.api.snapshots.findByTag(cloud.clusterId, TAG_CLONE_FOR, [name], ctx.signal)).get(name) ?? [];
  for (const s of found) await deleteIfThere(cloud.api, s.id, ctx);
}

async function deleteIfThere(api: CloudApi, snapshotId: string, ctx: OpContext): Promise<void> {
  try {
    await api.snapshots.delete(snapshotId, ctx.signal);
    ctx.log.info({ snapshotId }, 'intermediate snapshot deleted');
  } catch (err) {
    if (causeCode(err) !== 'InvalidSnapshot.NotFound') throw err;
  }
}

/** Before restoring from a snapshot: NOT_FOUND if it is gone, FAILED_PRECONDITION if it failed; waits while it is still pending. */
export async function restoreReady(cloud: Cloud, snapshotId: string, ctx: OpContext): Promise<void> {
  await snapshotCompleted(cloud.api, snapshotId, ctx, (failed) =>
    Promise.reject(failedPrecondition(`snapshot ${failed} failed in EC2 (state error); it cannot be restored`)),
  );
}

/** Waits until EC2 reports the snapshot `completed` (polling, 250 ms doubling to 5 s); `onError` decides what a failed one means. */
async function snapshotCompleted(api: CloudApi, snapshotId: string, ctx: OpContext, onError: (id: string) => Promise<never>): Promise<SnapshotInfo> {
  return external(async () => {
    let delay = 250;
    for (;;) {
      const s = (await api.snapshots.get([snapshotId], ctx.signal)).get(snapshotId);
      if (!s) throw notFound(`snapshot ${snapshotId} not found`);
      if (s.state === 'completed') return s;
      if (s.state === 'error') return onError(snapshotId);
      await sleep(delay, undefined, { signal: ctx.signal });
      delay = Math.min(5000, delay * 2);
    }
  });
}
