import { join } from 'node:path';
import { RegistrationService, serveUnix, unary, type PluginInfo, type RegistrationStatus, type UnixServer } from '@plinth/csi';
import type { Logger } from '@plinth/logger';

/** CSI versions the kubelet may speak to the agent (what node-driver-registrar announces too). */
const SUPPORTED_VERSIONS = ['1.0.0'];

export interface KubeletRegistrationOptions {
  /** The kubelet's plugin-registration directory as this process sees it (the kubelet's `plugins_registry`). */
  dir: string;
  driverName: string;
  /** The CSI socket as a path on the host: the kubelet dials it after GetInfo. */
  csiSocketOnHost: string;
  log: Logger;
}

export interface KubeletRegistration {
  server: UnixServer;
  /** The kubelet's last verdict (undefined until it sent one). */
  status(): RegistrationStatus | undefined;
}

/**
 * Built-in kubelet plugin registration: the agent itself serves the kubelet's plugin-registration API on
 * `<dir>/<driver>-reg.sock`, as node-driver-registrar does beside the driver. The kubelet's plugin watcher finds the
 * socket, asks GetInfo, dials the CSI socket named there (NodeGetInfo), writes CSINode, and reports the outcome
 * through NotifyRegistrationStatus. One container less per node; off unless REGISTRATION_DIR is set.
 */
export async function serveKubeletRegistration(o: KubeletRegistrationOptions): Promise<KubeletRegistration> {
  let last: RegistrationStatus | undefined;
  const info: PluginInfo = { type: 'CSIPlugin', name: o.driverName, endpoint: o.csiSocketOnHost, supportedVersions: SUPPORTED_VERSIONS };
  const implementation = {
    getInfo: unary('GetInfo', () => Promise.resolve(info), o.log),
    notifyRegistrationStatus: unary(
      'NotifyRegistrationStatus',
      (req: RegistrationStatus) => {
        last = req;
        if (req.pluginRegistered) o.log.info({ driver: o.driverName, endpoint: o.csiSocketOnHost }, 'registered with the kubelet');
        else o.log.error({ driver: o.driverName, error: req.error }, `the kubelet refused the registration: ${req.error}`);
        return Promise.resolve({});
      },
      o.log,
    ),
  };
  const server = await serveUnix(join(o.dir, `${o.driverName}-reg.sock`), [{ definition: RegistrationService, implementation }], o.log);
  return { server, status: () => last };
}
