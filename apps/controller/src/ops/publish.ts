import { causeCode } from '@plinth/cloud';
import { failedPrecondition, isPlinthError, notFound, unavailable } from '@plinth/errors';
import { defineOperation, differingFields, type Handler } from '@plinth/queue';
import { z } from 'zod';
import { attachmentTo, type Cloud } from '../cloud.js';
import { normalise, type DeviceAllocator } from '../devices.js';

export interface PublishJob {
  volumeId: string;
  nodeId: string;
  /** The capability asked for (access mode and read-only), to tell concurrent requests apart; EC2 attaches the same either way. */
  accessMode: string;
  readonly: boolean;
}

/** ControllerPublishVolume, keyed by volume and node; a concurrent call with another capability is ALREADY_EXISTS. */
export const publishOperation = defineOperation<PublishJob, Published>({
  name: 'publish',
  data: z.object({ volumeId: z.string(), nodeId: z.string(), accessMode: z.string(), readonly: z.boolean() }),
  key: (job) => `${job.volumeId}:${job.nodeId}`,
  locks: (job) => [`volume:${job.volumeId}`],
  describe: (job) => `volume ${job.volumeId} on node ${job.nodeId}`,
  conflicts: (mine, theirs) => differingFields(mine, theirs, { accessMode: 'access mode', readonly: 'readonly' }),
});

export interface Published {
  devicePath: string;
}

const ATTACH_TIMEOUT_MS = 5 * 60_000;

/**
 * ControllerPublishVolume's EC2 work: attach the volume to the node's
 * instance under a device name allocated in Redis, then wait (batched with
 * every other waiter in this process) until EC2 reports it attached.
 */
/** How long an allocation may stand without an attachment before it counts as abandoned. */
const STALE_ALLOCATION_MS = 15 * 60_000;

export function publishOp(
  cloud: Cloud,
  devices: DeviceAllocator,
  attachLimitOf: (nodeId: string) => Promise<number>,
  onAttached: (seconds: number) => void = () => undefined,
): Handler<PublishJob, Published> {
  return async ({ volumeId, nodeId }, ctx) => {
    const [volume, instance] = await Promise.all([cloud.volumes.get(volumeId), cloud.instance(nodeId)]);
    if (!volume) throw notFound(`volume ${volumeId} not found`);
    if (!instance) throw notFound(`node ${nodeId} not found (no running EC2 instance with that id)`);

    const mine = attachmentTo(volume, nodeId);
    if (mine?.State === 'attached' && mine.Device) return { devicePath: mine.Device };
    const others = (volume.Attachments ?? []).filter((a) => a.InstanceId !== nodeId && a.State !== 'detached');
    if (others.length > 0 && !volume.MultiAttachEnabled)
      throw failedPrecondition(`volume ${volumeId} is attached to node ${others.map((a) => a.InstanceId).join(', ')}; it must be unpublished there first`);
    const volZone = volume.AvailabilityZone;
    const nodeZone = instance.Placement?.AvailabilityZone;
    if (volZone && nodeZone && volZone !== nodeZone)
      throw failedPrecondition(`volume ${volumeId} is in zone ${volZone} but node ${nodeId} is in zone ${nodeZone}`);

    let device = mine?.Device;
    const pendingSince = performance.now();
    if (!device) {
      const mappings = instance.BlockDeviceMappings ?? [];
      const inUse = mappings.map((m) => m.DeviceName ?? '').filter(Boolean);
      if (instance.RootDeviceName) inUse.push(instance.RootDeviceName);
      await devices.reclaim(nodeId, new Set(mappings.map((m) => m.Ebs?.VolumeId ?? '')), STALE_ALLOCATION_MS);
      device = await devices.allocate(nodeId, volumeId, inUse.map(normalise), await attachLimitOf(nodeId));
      try {
        await cloud.ec2.attachVolume(volumeId, nodeId, device, ctx.signal);
      } catch (err) {
        const code = causeCode(err);
        // Attached already (a retry after a crash): carry on and wait for it.
        const alreadyOurs = code === 'VolumeInUse' && attachmentTo(await cloud.volumes.get(volumeId), nodeId);
        if (!alreadyOurs) {
          await devices.release(nodeId, volumeId);
          if (isPlinthError(err) && err.kind === 'InvalidArgument' && code === 'InvalidParameterValue')
            throw unavailable(`device name ${device} was refused on node ${nodeId}; retrying with another`);
          throw err;
        }
      }
    }
    const done = await cloud.watcher.waitFor(
      volumeId,
      (v) => !v || attachmentTo(v, nodeId)?.State === 'attached',
      ATTACH_TIMEOUT_MS,
    );
    const att = attachmentTo(done, nodeId);
    if (att?.State !== 'attached') {
      await devices.release(nodeId, volumeId);
      throw unavailable(`volume ${volumeId} did not attach to node ${nodeId} (state ${att?.State ?? 'not attached'}); retrying`);
    }
    onAttached((performance.now() - pendingSince) / 1000);
    ctx.log.info({ volumeId, nodeId, device: att.Device ?? device }, 'volume attached');
    return { devicePath: att.Device ?? device };
  };
}
