import { causeCode } from '@plinth/cloud';
import { notFound, unavailable } from '@plinth/errors';
import type { OpDefinition } from '@plinth/queue';
import type { Cloud } from '../cloud.js';

export interface ExpandVolumeJob {
  volumeId: string;
  sizeGiB: number;
}

export interface Expanded {
  sizeGiB: number;
}

const RESIZE_TIMEOUT_MS = 5 * 60_000;

/**
 * ControllerExpandVolume's EC2 work: ModifyVolume to the new size, then wait
 * until DescribeVolumes reports it (EC2 does once the modification is
 * "optimizing", when the node can already grow the filesystem). A volume
 * already at least that large is left alone; EBS never shrinks.
 */
export function expandVolumeOp(cloud: Cloud): OpDefinition<ExpandVolumeJob, Expanded> {
  return {
    locks: (job) => [`volume:${job.volumeId}`],
    async run({ volumeId, sizeGiB }, ctx) {
      const vol = await cloud.volumes.get(volumeId);
      if (!vol) throw notFound(`volume ${volumeId} not found`);
      if ((vol.Size ?? 0) >= sizeGiB) return { sizeGiB: vol.Size ?? sizeGiB };
      try {
        await cloud.ec2.modifyVolumeSize(volumeId, sizeGiB, ctx.signal);
      } catch (err) {
        // A modification already under way (ours, from a crashed attempt, or another): wait and retry.
        if (causeCode(err) === 'IncorrectModificationState') throw unavailable(`volume ${volumeId} is being modified already; retrying`);
        throw err;
      }
      const done = await cloud.watcher.waitFor(volumeId, (v) => !v || (v.Size ?? 0) >= sizeGiB, RESIZE_TIMEOUT_MS);
      if (!done) throw notFound(`volume ${volumeId} disappeared while being expanded`);
      if ((done.Size ?? 0) < sizeGiB) throw unavailable(`volume ${volumeId} is still ${done.Size} GiB, not ${sizeGiB} GiB; retrying`);
      ctx.log.info({ volumeId, sizeGiB: done.Size }, 'volume expanded');
      return { sizeGiB: done.Size ?? sizeGiB };
    },
  };
}
