/**
 * Starts the node agent in-process on a temp socket against an emulated host
 * (./nvme.ts) and gives typed promise clients for it. Used by the
 * integration tests and the benchmark.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials, Metadata, type CallOptions, type Client, type ServiceError } from '@grpc/grpc-js';
import { IdentityClient, NodeClient, VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { startAgent, type Agent } from '../../apps/node-agent/src/agent.js';
import { loadConfig } from '../../apps/node-agent/src/config.js';
import type { NodeIdentity } from '../../apps/node-agent/src/node/context.js';

type Unary<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown;

/** A unary client method as a promise with a deadline (the last overload of ts-proto's methods). */
function promised<Req, Res>(client: Client, method: Unary<Req, Res>, timeoutMs = 60_000): (req: Req) => Promise<Res> {
  return (req) =>
    new Promise<Res>((resolve, reject) => {
      method.call(client, req, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
    });
}

/** Promise versions of every Node and Identity RPC. */
export function csiApi(node: NodeClient, identity: IdentityClient) {
  return {
    stage: promised(node, node.nodeStageVolume.bind(node)),
    unstage: promised(node, node.nodeUnstageVolume.bind(node)),
    publish: promised(node, node.nodePublishVolume.bind(node)),
    unpublish: promised(node, node.nodeUnpublishVolume.bind(node)),
    stats: promised(node, node.nodeGetVolumeStats.bind(node)),
    expand: promised(node, node.nodeExpandVolume.bind(node)),
    volumeHealth: promised(node, node.nodeGetVolumeHealth.bind(node)),
    storageHealth: promised(node, node.nodeGetStorageHealth.bind(node)),
    capabilities: promised(node, node.nodeGetCapabilities.bind(node)),
    info: promised(node, node.nodeGetInfo.bind(node)),
    pluginInfo: promised(identity, identity.getPluginInfo.bind(identity)),
    pluginCapabilities: promised(identity, identity.getPluginCapabilities.bind(identity)),
    probe: promised(identity, identity.probe.bind(identity)),
  };
}
type CsiApi = ReturnType<typeof csiApi>;

export interface TestAgent {
  agent: Agent;
  socket: string;
  node: NodeClient;
  identity: IdentityClient;
  api: CsiApi;
  close(): Promise<void>;
}

export const TEST_IDENTITY: NodeIdentity = { nodeId: 'i-0123456789abcdef0', zone: 'us-east-1a', instanceType: 'm5.large', maxVolumesPerNode: 25 };

export async function startTestAgent(
  host: { root: string; sysRoot: string; devRoot: string; kubeletRoot: string },
  env: Record<string, string> = {},
  nodeIdentity: NodeIdentity = TEST_IDENTITY,
): Promise<TestAgent> {
  const socket = join(host.root, 'csi', 'csi.sock');
  const cfg = loadConfig({
    CSI_ENDPOINT: `unix://${socket}`,
    KUBELET_ROOT: host.kubeletRoot,
    SYSFS_ROOT: host.sysRoot,
    DEV_ROOT: host.devRoot,
    DEVICE_WAIT_MS: '1500',
    LOG_LEVEL: process.env.PLINTH_TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const log = createLogger({ name: 'node-agent-test', level: cfg.LOG_LEVEL });
  const agent = await startAgent(cfg, log, nodeIdentity);
  const node = new NodeClient(`unix://${socket}`, credentials.createInsecure());
  const identity = new IdentityClient(`unix://${socket}`, credentials.createInsecure());
  return {
    agent,
    socket,
    node,
    identity,
    api: csiApi(node, identity),
    async close() {
      node.close();
      identity.close();
      await agent.close();
    },
  };
}

export const mountCap = (fsType = 'ext4', mountFlags: string[] = [], mode = Mode.SINGLE_NODE_WRITER): VolumeCapability => ({
  mount: { fsType, mountFlags, volumeMountGroup: '' },
  accessMode: { mode },
});
export const blockCap = (mode = Mode.SINGLE_NODE_WRITER): VolumeCapability => ({ block: {}, accessMode: { mode } });

/** A random EBS-style volume id. */
export const newVolumeId = (): string => `vol-${Array.from({ length: 17 }, () => Math.floor(Math.random() * 16).toString(16)).join('')}`;

/** Runs a unary call and returns the gRPC error it failed with (throws if it succeeded). */
export async function grpcError<Res>(p: Promise<Res>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** sha256 of a whole block device (or file). */
export async function checksum(path: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    for await (const chunk of fh.createReadStream()) h.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return h.digest('hex');
}
