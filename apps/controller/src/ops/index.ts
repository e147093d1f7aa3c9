import type { Handlers } from '@plinth/queue';
import type { Redis } from 'ioredis';
import { RedisNamesSeen } from '../names-seen.js';
import { attachLimitOf, type Cloud } from '../cloud.js';
import type { DeviceNames } from '../devices.js';
import type { Metrics } from '../metrics.js';
import type { CopyTracker } from '../copy-tracker.js';
import { copySnapshotOp, copySnapshotOperation } from './copy-snapshot.js';
import { createSnapshotOp, createSnapshotOperation, type SubmitCopy } from './create-snapshot.js';
import { createVolumeOp, createVolumeOperation } from './create-volume.js';
import { deleteSnapshotOp, deleteSnapshotOperation } from './delete-snapshot.js';
import { deleteVolumeOp, deleteVolumeOperation } from './delete-volume.js';
import { createGroupSnapshotOp, createGroupSnapshotOperation, deleteGroupSnapshotOp, deleteGroupSnapshotOperation } from './group-snapshot.js';
import type { ModifyRequests } from './modify-requests.js';
import { modifyVolumeOp, modifyVolumeOperation } from './modify-volume.js';
import { publishOp, publishOperation } from './publish.js';
import { unpublishOp, unpublishOperation } from './unpublish.js';

/** Every durable operation of the controller: the RPCs run these, a worker handles them. */
export const OPERATIONS = {
  createVolume: createVolumeOperation,
  deleteVolume: deleteVolumeOperation,
  createSnapshot: createSnapshotOperation,
  deleteSnapshot: deleteSnapshotOperation,
  publish: publishOperation,
  unpublish: unpublishOperation,
  modifyVolume: modifyVolumeOperation,
  createGroupSnapshot: createGroupSnapshotOperation,
  deleteGroupSnapshot: deleteGroupSnapshotOperation,
  copySnapshot: copySnapshotOperation,
};

export interface HandlerDeps {
  cloud: Cloud;
  devices: DeviceNames;
  redis: Redis;
  modifyRequests: ModifyRequests;
  metrics: Pick<Metrics, 'pending' | 'detachPending'>;
  pollIntervalMs: number;
  /** STUCK_ATTACH_TIMEOUT_MS */
  stuckAttachMs: number;
  /** Cross-region snapshot copies: how they are queued, and which are pending. */
  copies: { submit: SubmitCopy; tracker: CopyTracker };
}

/** The handler of each operation; the compiler checks none is missing and each fits its operation's data and result. */
export function operationHandlers(d: HandlerDeps): Handlers<typeof OPERATIONS> {
  return {
    createVolume: createVolumeOp(d.cloud, new RedisNamesSeen(d.redis, d.cloud.clusterId)),
    deleteVolume: deleteVolumeOp(d.cloud),
    createSnapshot: createSnapshotOp(d.cloud, d.copies.submit),
    deleteSnapshot: deleteSnapshotOp(d.cloud),
    publish: publishOp(d.cloud, d.devices, (nodeId) => attachLimitOf(d.redis, nodeId), d.metrics.pending.attached, {
      afterMs: d.stuckAttachMs,
      onForceDetach: d.metrics.pending.stuckAttach,
    }),
    unpublish: unpublishOp(d.cloud, d.devices, d.metrics.pending.detached, d.metrics.detachPending),
    modifyVolume: modifyVolumeOp(d.cloud, d.modifyRequests, { pollIntervalMs: d.pollIntervalMs }),
    createGroupSnapshot: createGroupSnapshotOp(d.cloud),
    deleteGroupSnapshot: deleteGroupSnapshotOp(d.cloud),
    copySnapshot: copySnapshotOp({
      cloud: d.cloud,
      seen: new RedisNamesSeen(d.redis, d.cloud.clusterId),
      tracker: d.copies.tracker,
      pollIntervalMs: d.pollIntervalMs,
    }),
  };
}
