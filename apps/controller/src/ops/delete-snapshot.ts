import { causeCode } from '@plinth/cloud';
import { failedPrecondition } from '@plinth/errors';
import { defineOperation, type Handler } from '@plinth/queue';
import { z } from 'zod';
import type { Cloud } from '../cloud.js';
import { deleteCopies } from './copy-snapshot.js';

export interface DeleteSnapshotJob {
  snapshotId: string;
}

/**
 * Deletes one snapshot: gone already is success. A snapshot that volumes are
 * still being restored from is FAILED_PRECONDITION (Plinth waits until they
 * are available rather than pull the data from under them), as is one EC2
 * reports in use (by an AMI).
 */
export async function removeSnapshot(cloud: Cloud, snapshotId: string, signal: AbortSignal): Promise<void> {
  const restoring = (await cloud.api.volumes.fromSnapshot(snapshotId, signal)).filter((v) => v.state === 'creating').map((v) => v.id);
  if (restoring.length > 0)
    throw failedPrecondition(
      `snapshot ${snapshotId} is in use: volume ${restoring.join(', ')} is being created from it; delete it once the volume is available`,
    );
  try {
    await cloud.api.snapshots.delete(snapshotId, signal);
  } catch (err) {
    const code = causeCode(err);
    if (code === 'InvalidSnapshot.NotFound' || code === 'InvalidSnapshotID.Malformed') return;
    if (code === 'InvalidSnapshot.InUse') throw failedPrecondition(`snapshot ${snapshotId} is in use in EC2 (InvalidSnapshot.InUse, e.g. by an AMI)`);
    throw err;
  }
}

/** DeleteSnapshot's EC2 work, under a lease on the snapshot. */
export const deleteSnapshotOperation = defineOperation<DeleteSnapshotJob, Record<string, never>>({
  name: 'delete-snapshot',
  data: z.object({ snapshotId: z.string() }),
  key: (job) => job.snapshotId,
  locks: (job) => [`snapshot:${job.snapshotId}`],
  describe: (job) => `snapshot ${job.snapshotId}`,
});

export function deleteSnapshotOp(cloud: Cloud): Handler<DeleteSnapshotJob, Record<string, never>> {
  return async ({ snapshotId }, ctx) => {
    // Its cross-region copies first: once the snapshot is gone its tags no longer say where they are.
    const source = (await cloud.api.snapshots.get([snapshotId], ctx.signal)).get(snapshotId);
    if (source) await deleteCopies(cloud, source, ctx.signal, ctx.log);
    await removeSnapshot(cloud, snapshotId, ctx.signal);
    ctx.log.info({ snapshotId }, 'snapshot deleted');
    return {};
  };
}
