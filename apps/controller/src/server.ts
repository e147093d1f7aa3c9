import { unimplemented } from '@plinth/errors';
import { ControllerService, IdentityService, unary, type ControllerServer, type IdentityServer, type ServiceBinding } from '@plinth/csi';
import type { Logger } from '@plinth/logger';
import type { Deps } from './deps.js';
import type { Metrics } from './metrics.js';
import { controllerGetCapabilities } from './rpc/capabilities.js';
import { createVolume } from './rpc/create-volume.js';
import { deleteVolume } from './rpc/delete-volume.js';
import { controllerExpandVolume } from './rpc/expand-volume.js';
import { getPluginCapabilities, getPluginInfo, probe, Readiness } from './rpc/identity.js';
import { controllerPublishVolume } from './rpc/publish.js';
import { controllerUnpublishVolume } from './rpc/unpublish.js';
import { validateVolumeCapabilities } from './rpc/validate.js';

const notYet = (rpc: string) => () => Promise.reject(unimplemented(`${rpc} is not implemented by this controller (not advertised in ControllerGetCapabilities)`));

/** The Identity and Controller services, each RPC wired to its handler in rpc/. */
export function controllerServices(deps: Deps, log: Logger, metrics: Metrics): ServiceBinding[] {
  const readiness = new Readiness(deps);
  const u = <Req, Res>(method: string, fn: (req: Req, ctx: Parameters<Parameters<typeof unary>[1]>[1]) => Promise<Res>) => unary(method, fn, log, metrics.observeRpc);

  const identity: IdentityServer = {
    getPluginInfo: u('GetPluginInfo', () => Promise.resolve(getPluginInfo(deps))),
    getPluginCapabilities: u('GetPluginCapabilities', () => Promise.resolve(getPluginCapabilities())),
    probe: u('Probe', () => probe(readiness)),
  };

  const controller: ControllerServer = {
    createVolume: u('CreateVolume', (req, ctx) => createVolume(deps, req, ctx)),
    deleteVolume: u('DeleteVolume', (req, ctx) => deleteVolume(deps, req, ctx)),
    controllerPublishVolume: u('ControllerPublishVolume', (req, ctx) => controllerPublishVolume(deps, req, ctx)),
    controllerUnpublishVolume: u('ControllerUnpublishVolume', (req, ctx) => controllerUnpublishVolume(deps, req, ctx)),
    validateVolumeCapabilities: u('ValidateVolumeCapabilities', (req) => validateVolumeCapabilities(deps, req)),
    controllerGetCapabilities: u('ControllerGetCapabilities', () => Promise.resolve(controllerGetCapabilities())),
    listVolumes: u('ListVolumes', notYet('ListVolumes')),
    getCapacity: u('GetCapacity', notYet('GetCapacity')),
    createSnapshot: u('CreateSnapshot', notYet('CreateSnapshot')),
    deleteSnapshot: u('DeleteSnapshot', notYet('DeleteSnapshot')),
    listSnapshots: u('ListSnapshots', notYet('ListSnapshots')),
    getSnapshot: u('GetSnapshot', notYet('GetSnapshot')),
    controllerExpandVolume: u('ControllerExpandVolume', (req, ctx) => controllerExpandVolume(deps, req, ctx)),
    controllerGetVolume: u('ControllerGetVolume', notYet('ControllerGetVolume')),
    controllerModifyVolume: u('ControllerModifyVolume', notYet('ControllerModifyVolume')),
  };

  return [
    { definition: IdentityService, implementation: identity },
    { definition: ControllerService, implementation: controller },
  ];
}
