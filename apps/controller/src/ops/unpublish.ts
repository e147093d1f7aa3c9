import { causeCode } from '@plinth/cloud';
import { unavailable } from '@plinth/errors';
import { defineOperation, type Handler } from '@plinth/queue';
import { z } from 'zod';
import { attachmentTo, type Cloud } from '../cloud.js';
import type { DeviceNames } from '../devices.js';

export interface UnpublishJob {
  volumeId: string;
  nodeId: string;
}

export const unpublishOperation = defineOperation<UnpublishJob, Record<string, never>>({
  name: 'unpublish',
  data: z.object({ volumeId: z.string(), nodeId: z.string() }),
  key: (job) => `${job.volumeId}:${job.nodeId}`,
  locks: (job) => [`volume:${job.volumeId}`],
  describe: (job) => `volume ${job.volumeId} on node ${job.nodeId}`,
});

/** EC2 answers that mean "there is nothing attached to detach". */
const NOTHING_TO_DETACH = new Set(['InvalidVolume.NotFound', 'InvalidInstanceID.NotFound', 'InvalidAttachment.NotFound', 'IncorrectState']);

const DETACH_TIMEOUT_MS = 5 * 60_000;

/** ControllerUnpublishVolume's EC2 work: detach, wait until detached, free the device name. Already detached or node gone is success. */
export function unpublishOp(
  cloud: Cloud,
  devices: DeviceNames,
  onDetached: (seconds: number) => void = () => undefined,
  /** Detaches under way and their last seen state (aws_ebs_csi_ec2_detach_pending_seconds_total). */
  pending?: { track(volumeId: string, instanceId: string, state: string | undefined): void; clear(volumeId: string, instanceId: string): void },
): Handler<UnpublishJob, Record<string, never>> {
  return async ({ volumeId, nodeId }, ctx) => {
    const pendingSince = performance.now();
    try {
      await cloud.api.attachments.detach(volumeId, nodeId, ctx.signal);
    } catch (err) {
      if (!NOTHING_TO_DETACH.has(causeCode(err) ?? '')) throw err;
      pending?.clear(volumeId, nodeId);
      await devices.release(nodeId, volumeId);
      return {};
    }
    pending?.track(volumeId, nodeId, 'detaching');
    const v = await cloud.watcher.waitFor(
      volumeId,
      (vol) => {
        const a = attachmentTo(vol, nodeId);
        pending?.track(volumeId, nodeId, a?.state);
        return !a;
      },
      DETACH_TIMEOUT_MS,
      { action: 'detach' },
    );
    if (attachmentTo(v, nodeId)) throw unavailable(`volume ${volumeId} is still detaching from node ${nodeId}; retrying`);
    onDetached((performance.now() - pendingSince) / 1000);
    await devices.release(nodeId, volumeId);
    ctx.log.info({ volumeId, nodeId }, 'volume detached');
    return {};
  };
}
