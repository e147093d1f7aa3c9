import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { ControllerClient, GroupControllerClient, IdentityClient } from '@plinth/csi';
import { startApp, type AppProcess } from './app.js';

/** The env integration tests give a controller: the stack's Redis and region, an EC2 endpoint, a cluster id, generous rate limits and fast polling. */
export function testControllerEnv(o: { redisUrl: string; region: string; zone: string; ec2Endpoint: string; cluster: string }): Record<string, string> {
  return {
    REDIS_URL: o.redisUrl,
    AWS_REGION: o.region,
    EC2_ENDPOINT: o.ec2Endpoint,
    PLINTH_CLUSTER_ID: o.cluster,
    DEFAULT_ZONE: o.zone,
    EC2_RATE_LIMITS: 'describe=1000:1000,mutating=1000:1000',
    EC2_POLL_INTERVAL_MS: '100',
  };
}

export interface ControllerProcess extends AppProcess {
  controller: ControllerClient;
  identity: IdentityClient;
  group: GroupControllerClient;
}

/**
 * Starts the real controller (apps/controller/src/main.ts) as a child process
 * on a fresh unix socket (or `opts.endpoint`) and waits until it answers Probe.
 */
export async function startController(env: Record<string, string>, opts: { endpoint?: string } = {}): Promise<ControllerProcess> {
  const endpoint = opts.endpoint ?? `unix://${join(mkdtempSync(join(tmpdir(), 'plinth-ctl-')), 'csi.sock')}`;
  const app = await startApp('controller', 'apps/controller/src/main.ts', endpoint, { SHUTDOWN_GRACE_MS: '3000', ...env });
  const controller = new ControllerClient(endpoint, credentials.createInsecure());
  const identity = new IdentityClient(endpoint, credentials.createInsecure());
  const group = new GroupControllerClient(endpoint, credentials.createInsecure());
  const closeClients = () => {
    controller.close();
    identity.close();
    group.close();
  };
  return {
    ...app,
    controller,
    identity,
    group,
    stop: (graceMs) => (closeClients(), app.stop(graceMs)),
    kill: () => (closeClients(), app.kill()),
  };
}
