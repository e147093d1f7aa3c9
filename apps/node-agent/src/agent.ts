import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { serveUnix, type UnixServer } from '@plinth/csi';
import { ec2Metrics, type Ec2Observer } from '@plinth/cloud';
import type { Logger } from '@plinth/logger';
import { redisSettings } from '@plinth/redis';
import type { Config } from './config.js';
import { describeNode, nodeCloud, regionOfZone } from './ec2.js';
import { computeAttachLimit } from './limits.js';
import { VolumeLocks } from './locks.js';
import { resolveMetadata } from './metadata/resolve.js';
import { createMetrics, serveMetrics } from './metrics.js';
import type { NodeContext, NodeIdentity } from './node/context.js';
import { nodeServices } from './node/service.js';
import { registerNvmeCollector } from './nvme/collector.js';
import { LinuxOs } from './os/linux.js';
import { serveHealthz } from './healthz.js';
import { serveKubeletRegistration } from './kubelet-registration.js';
import { startRegistration, type Registration } from './registration.js';
import { kubernetesTaintSource, removeStartupTaint } from './startup-taint.js';
import { hasKubeconfig } from './metadata/kubernetes.js';
import { runClosers, type Closer } from '@plinth/shutdown';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

export interface Agent {
  ctx: NodeContext;
  server: UnixServer;
  metrics?: Server | undefined;
  /** In shutdown order. */
  closers: Closer[];
  close(): Promise<void>;
}

/** How long the start-up EC2 look-ups may take, retries included. */
const EC2_TIMEOUT_MS = 15_000;

/** Node id, zone, instance type and the attach limit, with the computation explained in the log; EC2 calls are seen by `observer`. */
export async function resolveIdentity(cfg: Config, log: Logger, observer?: Ec2Observer): Promise<NodeIdentity> {
  const md = await resolveMetadata(cfg, log);
  let instanceType = md.instanceType;
  let limitInputs: Parameters<typeof computeAttachLimit>[0] = { override: cfg.MAX_VOLUMES_PER_NODE };
  if (cfg.MAX_VOLUMES_PER_NODE === undefined || !instanceType) {
    const region = cfg.AWS_REGION ?? regionOfZone(md.zone);
    try {
      const ec2 = nodeCloud({
        region,
        endpoint: cfg.EC2_ENDPOINT,
        redis: redisSettings(cfg),
        rateLimits: cfg.EC2_RATE_LIMITS,
        log,
        observer,
        retryBudgetMs: EC2_TIMEOUT_MS,
      });
      const facts = await describeNode(
        ec2.cloud,
        cfg.EC2_ENDPOINT ?? `EC2 in ${region}`,
        md.instanceId,
        instanceType,
        AbortSignal.timeout(EC2_TIMEOUT_MS),
      ).finally(ec2.close);
      instanceType ??= facts.instanceTypeName;
      limitInputs = { ...limitInputs, instance: facts.instance, instanceType: facts.instanceType };
    } catch (err) {
      if (cfg.MAX_VOLUMES_PER_NODE === undefined) throw err;
      log.warn({ err: (err as Error).message }, 'EC2 did not answer; instance type unknown (MAX_VOLUMES_PER_NODE is set, so the limit is known)');
    }
  }
  const { limit, explanation } = computeAttachLimit(limitInputs);
  log.info({ maxVolumesPerNode: limit, explanation }, `attach limit: ${explanation.join('; ')}`);
  return { nodeId: md.instanceId, zone: md.zone, instanceType: instanceType ?? '', maxVolumesPerNode: limit };
}

/** Resolves identity, then serves CSI Identity + Node on the socket, metrics and Redis registration when configured. */
export async function startAgent(cfg: Config, log: Logger, identity?: NodeIdentity): Promise<Agent> {
  const metrics = createMetrics();
  const id = identity ?? (await resolveIdentity(cfg, log, ec2Metrics(metrics.registry)));
  const ctx: NodeContext = {
    driverName: cfg.PLINTH_DRIVER_NAME,
    version: pkg.version,
    kubeletRoot: cfg.KUBELET_ROOT,
    os: new LinuxOs({ sysRoot: cfg.SYSFS_ROOT, devRoot: cfg.DEV_ROOT }, cfg.NVME_CLI),
    deviceWaitMs: cfg.DEVICE_WAIT_MS,
    ioTimeoutMs: cfg.HEALTH_IO_TIMEOUT_MS,
    health: metrics.health,
    locks: new VolumeLocks(),
    log,
    identity: id,
  };
  metrics.attachLimit({ node: cfg.KUBE_NODE_NAME ?? id.nodeId, instanceId: id.nodeId }, id.maxVolumesPerNode);
  const server = await serveUnix(cfg.CSI_ENDPOINT, nodeServices(ctx, metrics.observe), log);
  const closers: Closer[] = [{ name: 'csi', run: (ms) => server.close(Math.min(ms, 10_000)) }];

  let httpServer: Server | undefined;
  if (cfg.METRICS_ADDRESS) {
    registerNvmeCollector({ registry: metrics.registry, os: ctx.os, kubeletRoot: ctx.kubeletRoot, instanceId: id.nodeId, log });
    const s = await serveMetrics(metrics, cfg.METRICS_ADDRESS, log);
    httpServer = s;
    closers.push({ name: 'metrics', run: () => new Promise<void>((resolve) => s.close(() => resolve())) });
  }
  if (cfg.HEALTHZ_ADDRESS) {
    const h = await serveHealthz(cfg.CSI_ENDPOINT, cfg.HEALTHZ_ADDRESS, log);
    closers.push({ name: 'healthz', run: () => new Promise<void>((resolve) => h.close(() => resolve())) });
  }
  if (cfg.REGISTRATION_DIR) {
    const reg = await serveKubeletRegistration({
      dir: cfg.REGISTRATION_DIR,
      driverName: ctx.driverName,
      csiSocketOnHost: cfg.DRIVER_REG_SOCK_PATH ?? join(cfg.KUBELET_ROOT, 'plugins', ctx.driverName, 'csi.sock'),
      log,
    });
    // Closed first: the kubelet unregisters a plugin whose registration socket is gone before its CSI socket.
    closers.unshift({ name: 'kubelet-registration', run: (ms) => reg.server.close(Math.min(ms, 5_000)) });
  }
  let registration: Registration | undefined;
  const redisConn = redisSettings(cfg);
  if (redisConn) {
    registration = await startRegistration(
      redisConn,
      {
        instanceId: id.nodeId,
        zone: id.zone,
        instanceType: id.instanceType,
        attachLimit: id.maxVolumesPerNode,
        driverName: ctx.driverName,
        startedAt: Date.now(),
      },
      cfg.HEARTBEAT_INTERVAL_MS,
      log,
    );
    const r = registration;
    closers.push({ name: 'redis', run: () => r.stop() });
  }
  if (cfg.STARTUP_TAINT_REMOVAL && cfg.KUBE_NODE_NAME && hasKubeconfig()) {
    // In the background: the kubelet registers the driver only after this socket answers.
    const stop = new AbortController();
    const nodeName = cfg.KUBE_NODE_NAME;
    const removal = kubernetesTaintSource(nodeName, ctx.driverName)
      .then((src) => removeStartupTaint(src, { driverName: ctx.driverName, log, signal: stop.signal }))
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'startup taint: no Kubernetes client; not removing it'));
    closers.unshift({
      name: 'startup-taint',
      run: async () => {
        stop.abort();
        await removal;
      },
    });
  }
  log.info({ driver: ctx.driverName, version: ctx.version, nodeId: id.nodeId, zone: id.zone, kubeletRoot: ctx.kubeletRoot }, 'node agent ready');
  return {
    ctx,
    server,
    metrics: httpServer,
    closers,
    async close() {
      await runClosers(log, 15_000, closers);
    },
  };
}
