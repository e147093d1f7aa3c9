import {
  ControllerService,
  GroupControllerService,
  IdentityService,
  unary,
  type ControllerServer,
  type GroupControllerServer,
  type IdentityServer,
  type ServiceBinding,
} from '@plinth/csi';
import type { Logger } from '@plinth/logger';
import type { Deps } from './deps.js';
import type { HealthDeps } from './health-deps.js';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';
import { controllerGetCapabilities } from './rpc/capabilities.js';
import { createSnapshot } from './rpc/create-snapshot.js';
import { createVolume } from './rpc/create-volume.js';
import { deleteSnapshot } from './rpc/delete-snapshot.js';
import { deleteVolume } from './rpc/delete-volume.js';
import { controllerExpandVolume } from './rpc/expand-volume.js';
import { getCapacity } from './rpc/get-capacity.js';
import { getSnapshot } from './rpc/get-snapshot.js';
import { controllerGetVolume } from './rpc/get-volume.js';
import { controllerGetVolumeHealth } from './rpc/get-volume-health.js';
import { groupControllerGetCapabilities } from './rpc/group/capabilities.js';
import { createVolumeGroupSnapshot } from './rpc/group/create-group-snapshot.js';
import { deleteVolumeGroupSnapshot } from './rpc/group/delete-group-snapshot.js';
import { getVolumeGroupSnapshot } from './rpc/group/get-group-snapshot.js';
import { getPluginCapabilities, getPluginInfo, probe } from './rpc/identity.js';
import { listSnapshots } from './rpc/list-snapshots.js';
import { controllerListVolumeHealth } from './rpc/list-volume-health.js';
import { listVolumes } from './rpc/list-volumes.js';
import { controllerModifyVolume } from './rpc/modify-volume.js';
import { controllerPublishVolume } from './rpc/publish.js';
import { controllerUnpublishVolume } from './rpc/unpublish.js';
import { validateVolumeCapabilities } from './rpc/validate.js';

/** The Identity, Controller and GroupController services, each RPC wired to its handler in rpc/. */
export function controllerServices(deps: Deps, log: Logger, metrics: Metrics, readiness?: Readiness): ServiceBinding[] {
  const u = <Req, Res>(method: string, fn: (req: Req, ctx: Parameters<Parameters<typeof unary>[1]>[1]) => Promise<Res>) =>
    unary(method, fn, log, metrics.observeRpc);
  /** A mutating RPC: refused at once with UNAVAILABLE while the last readiness check found Redis or EC2 unreachable. */
  const m = <Req, Res>(method: string, fn: (req: Req, ctx: Parameters<Parameters<typeof unary>[1]>[1]) => Promise<Res>) =>
    u<Req, Res>(method, async (req, ctx) => {
      readiness?.assertReachable(method);
      return fn(req, ctx);
    });

  const health: HealthDeps = { cloud: deps.cloud, health: metrics.health, stuckAttachMs: deps.config.STUCK_ATTACH_TIMEOUT_MS };

  const identity: IdentityServer = {
    getPluginInfo: u('GetPluginInfo', () => Promise.resolve(getPluginInfo(deps))),
    getPluginCapabilities: u('GetPluginCapabilities', () => Promise.resolve(getPluginCapabilities())),
    probe: u('Probe', () => Promise.resolve(probe())),
  };

  const controller: ControllerServer = {
    createVolume: m('CreateVolume', (req, ctx) => createVolume(deps, req, ctx)),
    deleteVolume: m('DeleteVolume', (req, ctx) => deleteVolume(deps, req, ctx)),
    controllerPublishVolume: m('ControllerPublishVolume', (req, ctx) => controllerPublishVolume(deps, req, ctx)),
    controllerUnpublishVolume: m('ControllerUnpublishVolume', (req, ctx) => controllerUnpublishVolume(deps, req, ctx)),
    validateVolumeCapabilities: u('ValidateVolumeCapabilities', (req) => validateVolumeCapabilities(deps, req)),
    controllerGetCapabilities: u('ControllerGetCapabilities', () => Promise.resolve(controllerGetCapabilities())),
    listVolumes: u('ListVolumes', (req, ctx) => listVolumes(deps, req, ctx)),
    getCapacity: u('GetCapacity', (req, ctx) => getCapacity(deps, req, ctx)),
    createSnapshot: m('CreateSnapshot', (req, ctx) => createSnapshot(deps, req, ctx)),
    deleteSnapshot: m('DeleteSnapshot', (req, ctx) => deleteSnapshot(deps, req, ctx)),
    listSnapshots: u('ListSnapshots', (req, ctx) => listSnapshots(deps, req, ctx)),
    getSnapshot: u('GetSnapshot', (req, ctx) => getSnapshot(deps, req, ctx)),
    controllerExpandVolume: m('ControllerExpandVolume', (req, ctx) => controllerExpandVolume(deps, req, ctx)),
    controllerGetVolume: u('ControllerGetVolume', (req, ctx) => controllerGetVolume(deps, req, ctx)),
    controllerModifyVolume: m('ControllerModifyVolume', (req, ctx) => controllerModifyVolume(deps, req, ctx)),
    controllerGetVolumeHealth: u('ControllerGetVolumeHealth', (req, ctx) => controllerGetVolumeHealth(health, req, ctx)),
    controllerListVolumeHealth: u('ControllerListVolumeHealth', (req, ctx) => controllerListVolumeHealth(health, req, ctx)),
  };

  const group: GroupControllerServer = {
    groupControllerGetCapabilities: u('GroupControllerGetCapabilities', () => Promise.resolve(groupControllerGetCapabilities())),
    createVolumeGroupSnapshot: m('CreateVolumeGroupSnapshot', (req, ctx) => createVolumeGroupSnapshot(deps, req, ctx)),
    deleteVolumeGroupSnapshot: m('DeleteVolumeGroupSnapshot', (req, ctx) => deleteVolumeGroupSnapshot(deps, req, ctx)),
    getVolumeGroupSnapshot: u('GetVolumeGroupSnapshot', (req) => getVolumeGroupSnapshot(deps, req)),
  };

  return [
    { definition: IdentityService, implementation: identity },
    { definition: ControllerService, implementation: controller },
    { definition: GroupControllerService, implementation: group },
  ];
}
