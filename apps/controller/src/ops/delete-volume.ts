import { causeCode } from '@plinth/cloud';
import { failedPrecondition, isPlinthError } from '@plinth/errors';
import { defineOperation, type Handler } from '@plinth/queue';
import { z } from 'zod';
import type { Cloud } from '../cloud.js';

export interface DeleteVolumeJob {
  volumeId: string;
}

export const deleteVolumeOperation = defineOperation<DeleteVolumeJob, Record<string, never>>({
  name: 'delete',
  data: z.object({ volumeId: z.string() }),
  key: (job) => job.volumeId,
  locks: (job) => [`volume:${job.volumeId}`],
  describe: (job) => `volume ${job.volumeId}`,
});

/** DeleteVolume's EC2 work: gone already is success; attached is FAILED_PRECONDITION. */
export function deleteVolumeOp(cloud: Cloud): Handler<DeleteVolumeJob, Record<string, never>> {
  return async (job, ctx) => {
    try {
      await cloud.api.volumes.delete(job.volumeId, ctx.signal);
    } catch (err) {
      const code = causeCode(err);
      if (code === 'InvalidVolume.NotFound') return {};
      if (code === 'VolumeInUse' || (isPlinthError(err) && err.kind === 'FailedPrecondition')) {
        const v = await cloud.volumes.get(job.volumeId);
        const nodes = (v?.attachments ?? []).map((a) => a.instanceId).join(', ');
        throw failedPrecondition(`volume ${job.volumeId} is attached${nodes ? ` to ${nodes}` : ''}; unpublish it before deleting`);
      }
      throw err;
    }
    ctx.log.info({ volumeId: job.volumeId }, 'volume deleted');
    return {};
  };
}
