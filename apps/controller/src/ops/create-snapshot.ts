import { causeCode, TAG_SNAPSHOT_NAME, type SnapshotInfo } from '@plinth/cloud';
import { alreadyExists, failedPrecondition, isPlinthError, notFound } from '@plinth/errors';
import { defineOperation, differingFields, type Handler, type OpContext } from '@plinth/queue';
import { z } from 'zod';
import type { Cloud } from '../cloud.js';
import { FAST_RESTORE_ZONES, snapshotParamsSchema, snapshotTags, type SnapshotParams } from '../params/snapshot-params.js';
import { snapshotResult, toCsiSnapshot, type SnapshotResult } from '../snapshot-view.js';
import { copyJob, type CopySnapshotJob } from './copy-snapshot.js';

/** Queues a snapshot's cross-region copy (without waiting for it). */
export type SubmitCopy = (job: CopySnapshotJob) => Promise<void>;

export interface CreateSnapshotJob {
  name: string;
  sourceVolumeId: string;
  params: SnapshotParams;
}

/** CreateSnapshot, keyed by the CSI name; a concurrent call for another source volume is ALREADY_EXISTS. */
export const createSnapshotOperation = defineOperation<CreateSnapshotJob, SnapshotResult>({
  name: 'snapshot',
  data: z.object({ name: z.string(), sourceVolumeId: z.string(), params: snapshotParamsSchema }),
  key: (job) => job.name,
  locks: (job) => [`snapshot-name:${job.name}`, `volume:${job.sourceVolumeId}`],
  describe: (job) => `snapshot "${job.name}"`,
  conflicts: (mine, theirs) => differingFields(mine, theirs, { sourceVolumeId: 'source volume' }),
});

/** Fast snapshot restore that EC2 cannot give: FAILED_PRECONDITION (the class asks for what this cloud lacks), naming the parameter. */
function fastRestoreError(err: unknown, outcome: string): unknown {
  if (isPlinthError(err) && err.kind === 'Unimplemented')
    return failedPrecondition(
      `parameter ${FAST_RESTORE_ZONES}: this EC2 endpoint does not offer fast snapshot restore (EnableFastSnapshotRestores); ${outcome}; remove the parameter from the VolumeSnapshotClass`,
    );
  if (isPlinthError(err) && err.kind === 'FailedPrecondition') return failedPrecondition(`parameter ${FAST_RESTORE_ZONES}: ${err.message}; ${outcome}`);
  return err;
}

async function removeQuietly(cloud: Cloud, snapshotId: string, ctx: OpContext): Promise<void> {
  await cloud.api.snapshots.delete(snapshotId, ctx.signal).catch((err: unknown) => {
    if (causeCode(err) !== 'InvalidSnapshot.NotFound') ctx.log.warn({ snapshotId, err }, 'could not delete a snapshot; it is left in EC2');
  });
}

/**
 * CreateSnapshot's EC2 work, under leases on the name and the source volume.
 * Looks the snapshot up by its CSI-name tag before creating (a retried or
 * re-polled call finds it: external-snapshotter calls CreateSnapshot again
 * until ready_to_use), and creates with its tags in the same call, so a
 * crash cannot leave an unnamed snapshot. Answers at once: EC2 reports the
 * snapshot `pending` (ready_to_use false) until it is `completed`.
 */
export function createSnapshotOp(cloud: Cloud, submitCopy?: SubmitCopy): Handler<CreateSnapshotJob, SnapshotResult> {
  // The class asks for a copy in another region: its job is queued (or joined) whenever the snapshot is answered.
  const copied = async (s: SnapshotInfo, job: CreateSnapshotJob, ctx: OpContext): Promise<SnapshotResult> => {
    if (job.params.copy && submitCopy) {
      await submitCopy(copyJob(s, job.params.copy, cloud.api.region)).catch((err: unknown) => {
        // A copy job with other settings is in flight (the class changed): it carries on; this call does not fail the snapshot.
        if (!(isPlinthError(err) && err.kind === 'AlreadyExists')) throw err;
        ctx.log.warn({ snapshotId: s.id, reason: err.message }, 'snapshot copy already queued with other settings');
      });
    }
    return snapshotResult(toCsiSnapshot(s));
  };
  return async (job, ctx) => {
    const zones = job.params.fastRestoreZones;
    const named = ((await cloud.api.snapshots.findByTag(cloud.clusterId, TAG_SNAPSHOT_NAME, [job.name], ctx.signal)).get(job.name) ?? []).sort(
      (a, b) => (a.startedAt?.getTime() ?? 0) - (b.startedAt?.getTime() ?? 0),
    );
    let found: SnapshotInfo | undefined;
    for (const s of named) {
      if (s.state === 'error') {
        // A failed snapshot is of no use; it is replaced by a new one.
        ctx.log.warn({ snapshotId: s.id, name: job.name }, 'snapshot failed in EC2; deleting it and taking another');
        await removeQuietly(cloud, s.id, ctx);
      } else found ??= s;
    }
    if (found) {
      if (found.volumeId !== job.sourceVolumeId)
        throw alreadyExists(`snapshot "${job.name}" already exists as ${found.id} of volume ${found.volumeId}, not of ${job.sourceVolumeId}`);
      if (zones.length > 0) {
        try {
          const have = await cloud.api.snapshots.fastRestoreZones(found.id, ctx.signal);
          const missing = zones.filter((z) => !have.includes(z));
          if (missing.length > 0) await cloud.api.snapshots.enableFastRestores(found.id, missing, ctx.signal);
        } catch (err) {
          throw fastRestoreError(err, `snapshot ${found.id} exists without it`);
        }
      }
      return copied(found, job, ctx);
    }

    const created = await cloud.api.snapshots
      .create(
        {
          volumeId: job.sourceVolumeId,
          description: `Plinth CSI snapshot "${job.name}" of ${job.sourceVolumeId}`.slice(0, 255),
          tags: snapshotTags(job.name, cloud, job.params),
        },
        ctx.signal,
      )
      .catch((err: unknown) => {
        if (causeCode(err) === 'InvalidVolume.NotFound') throw notFound(`source volume ${job.sourceVolumeId} not found`);
        throw err;
      });
    const snapshotId = created.id;
    ctx.log.info({ snapshotId, name: job.name, sourceVolumeId: job.sourceVolumeId, state: created.state }, 'snapshot started');
    if (zones.length > 0) {
      try {
        await cloud.api.snapshots.enableFastRestores(snapshotId, zones, ctx.signal);
      } catch (err) {
        // As aws-ebs-csi-driver does: a snapshot without the fast restore the class asks for is not kept.
        await removeQuietly(cloud, snapshotId, ctx);
        throw fastRestoreError(err, `snapshot ${snapshotId} was not kept`);
      }
    }
    return copied(created, job, ctx);
  };
}
