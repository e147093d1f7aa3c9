import { causeCode, type VolumeInfo } from '@plinth/cloud';
import { failedPrecondition, isPlinthError, notFound, unavailable } from '@plinth/errors';
import { defineOperation, differingFields, type Handler } from '@plinth/queue';
import { z } from 'zod';
import { attachmentTo, type Cloud } from '../cloud.js';
import { normalise, type DeviceNames } from '../devices.js';
import { DEFAULT_STUCK_ATTACH_MS, isStuckAttaching, STUCK_ATTACH_RETRIES } from './publish-stuck.js';

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

/** How long an allocation may stand without an attachment before it counts as abandoned. */
const STALE_ALLOCATION_MS = 15 * 60_000;

/** How old EC2's last answer about a volume may be for a first attach to go ahead on it. */
const RECENT_ANSWER_MS = 60_000;

/**
 * The volume as the attach decides on it. A first attempt on a volume this process saw unattached within the
 * last minute (its CreateVolume wait, a detach wait) uses that answer instead of describing it again: zone, type
 * and multi-attach do not change, and an attachment made since is refused by AttachVolume itself (VolumeInUse,
 * which is then looked into). A retry, or a volume seen attached anywhere, is described afresh.
 */
async function volumeToAttach(cloud: Cloud, volumeId: string, firstTry: boolean): Promise<VolumeInfo | undefined> {
  const recent = firstTry ? cloud.recent(volumeId, RECENT_ANSWER_MS) : undefined;
  if (recent?.state === 'available' && recent.attachments.every((a) => a.state === 'detached')) return recent;
  return cloud.volumes.get(volumeId);
}

/** FAILED_PRECONDITION naming the node(s) a single-attach volume is attached to, other than `nodeId`. */
function refuseIfAttachedElsewhere(volume: VolumeInfo, volumeId: string, nodeId: string): void {
  if (volume.multiAttach) return;
  const others = volume.attachments.filter((a) => a.instanceId !== nodeId && a.state !== 'detached');
  if (others.length > 0)
    throw failedPrecondition(`volume ${volumeId} is attached to node ${others.map((a) => a.instanceId).join(', ')}; it must be unpublished there first`);
}

export interface StuckAttachOptions {
  /** An attachment still `attaching` this long is force-detached and attached again (STUCK_ATTACH_TIMEOUT_MS). */
  afterMs: number;
  /** Counted once per force detach (plinth_stuck_attachments_total). */
  onForceDetach?: () => void;
}

/**
 * ControllerPublishVolume's EC2 work: attach the volume to the node's
 * instance under a device name allocated in Redis, then wait (batched with
 * every other waiter in this process) until EC2 reports it attached.
 * An attachment stuck in `attaching` past `stuck.afterMs` is force-detached
 * and attached again, up to STUCK_ATTACH_RETRIES times.
 */
export function publishOp(
  cloud: Cloud,
  devices: DeviceNames,
  attachLimitOf: (nodeId: string) => Promise<number>,
  onAttached: (seconds: number) => void = () => undefined,
  stuck: StuckAttachOptions = { afterMs: DEFAULT_STUCK_ATTACH_MS },
): Handler<PublishJob, Published> {
  return async ({ volumeId, nodeId }, ctx) => {
    const pendingSince = performance.now();
    for (let forced = 0; ; forced++) {
      const [volume, instance] = await Promise.all([volumeToAttach(cloud, volumeId, ctx.attempt === 1 && forced === 0), cloud.instance(nodeId)]);
      if (!volume) throw notFound(`volume ${volumeId} not found`);
      if (!instance) throw notFound(`node ${nodeId} not found (no running EC2 instance with that id)`);

      const mine = attachmentTo(volume, nodeId);
      if (mine?.state === 'attached' && mine.device) return { devicePath: mine.device };
      refuseIfAttachedElsewhere(volume, volumeId, nodeId);
      const volZone = volume.zone;
      const nodeZone = instance.zone;
      if (volZone && nodeZone && volZone !== nodeZone)
        throw failedPrecondition(`volume ${volumeId} is in zone ${volZone} but node ${nodeId} is in zone ${nodeZone}`);

      let device = mine?.device || undefined;
      const askedAt = Date.now();
      if (!device) {
        const mappings = instance.blockDevices;
        const inUse = mappings.map((m) => m.device).filter(Boolean);
        if (instance.rootDevice) inUse.push(instance.rootDevice);
        await devices.reclaim(nodeId, new Set(mappings.map((m) => m.volumeId ?? '')), STALE_ALLOCATION_MS);
        device = await devices.allocate(nodeId, volumeId, inUse.map(normalise), await attachLimitOf(nodeId));
        try {
          await cloud.api.attachments.attach(volumeId, nodeId, device, ctx.signal);
        } catch (err) {
          const code = causeCode(err);
          // Attached already (a retry after a crash): carry on and wait for it.
          const now = code === 'VolumeInUse' ? await cloud.volumes.get(volumeId) : undefined;
          if (!attachmentTo(now, nodeId)) {
            await devices.release(nodeId, volumeId);
            // Attached elsewhere since the volume was last read (another replica won the race): say where.
            if (now) refuseIfAttachedElsewhere(now, volumeId, nodeId);
            if (isPlinthError(err) && err.kind === 'InvalidArgument' && code === 'InvalidParameterValue')
              throw unavailable(`device name ${device} was refused on node ${nodeId}; retrying with another`);
            throw err;
          }
        }
      }
      const done = await cloud.watcher.waitFor(
        volumeId,
        (v) => {
          const att = attachmentTo(v, nodeId);
          return !v || att?.state === 'attached' || isStuckAttaching(att, Date.now(), stuck.afterMs, askedAt);
        },
        ATTACH_TIMEOUT_MS,
        { action: 'attach', volumeType: volume.type },
      );
      const att = attachmentTo(done, nodeId);
      if (att?.state === 'attached') {
        onAttached((performance.now() - pendingSince) / 1000);
        ctx.log.info({ volumeId, nodeId, device: att.device || device }, 'volume attached');
        return { devicePath: att.device || device };
      }
      if (!att || att.state !== 'attaching') {
        await devices.release(nodeId, volumeId);
        throw unavailable(`volume ${volumeId} did not attach to node ${nodeId} (state ${att?.state ?? 'not attached'}); retrying`);
      }
      // Stuck in `attaching` (aws-ebs-csi-driver #1801, #2833): force-detach, wait until it is gone, free the name, attach afresh.
      const since = Math.round((Date.now() - (att.attachedAt?.getTime() ?? askedAt)) / 1000);
      ctx.log.warn(
        { volumeId, nodeId, device: att.device || device, attachingSeconds: since, retry: forced + 1 },
        'attachment stuck in attaching; force-detaching it to attach again',
      );
      stuck.onForceDetach?.();
      await cloud.api.attachments.detach(volumeId, nodeId, ctx.signal, { force: true });
      await cloud.watcher.waitFor(volumeId, (v) => !attachmentTo(v, nodeId), ATTACH_TIMEOUT_MS, { action: 'detach', volumeType: volume.type });
      await devices.release(nodeId, volumeId);
      if (forced + 1 >= STUCK_ATTACH_RETRIES)
        throw unavailable(
          `volume ${volumeId} stuck attaching to node ${nodeId} ${forced + 1} times (force-detached each time after ${Math.round(stuck.afterMs / 1000)} s); retrying`,
        );
    }
  };
}
