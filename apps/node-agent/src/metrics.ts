import { createServer, type Server } from 'node:http';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HealthGauge, type RpcObserver } from '@plinth/csi';
import type { Logger } from '@plinth/logger';

export interface Metrics {
  registry: Registry;
  observe: RpcObserver;
  /** plinth_volume_health: what the last NodeGetVolumeHealth of each volume found wrong. */
  health: HealthGauge;
  /** Records the attach limit this node reports in NodeGetInfo (max_volumes_per_node). */
  attachLimit(labels: { node: string; instanceId: string }, limit: number): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'plinth_node_' });
  const rpc = new Histogram({
    name: 'plinth_csi_rpc_duration_seconds',
    help: 'CSI RPC latency by method and gRPC code',
    labelNames: ['method', 'code'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  // Joined on `node` with kube-state-metrics' kube_volumeattachment_info to alert on nodes near their limit.
  const limit = new Gauge({
    name: 'plinth_node_attach_limit',
    help: 'Volumes this node may have attached (max_volumes_per_node in NodeGetInfo), by Kubernetes node name and instance id',
    labelNames: ['node', 'instance_id'] as const,
    registers: [registry],
  });
  return {
    registry,
    health: new HealthGauge(
      registry,
      'Volume health problems this node last reported (I/O heartbeat, mounts, filesystem errors), 1 per volume, status and reason; healthy volumes have no series',
    ),
    observe: (method, code, seconds) => rpc.observe({ method, code }, seconds),
    attachLimit: ({ node, instanceId }, n) => limit.set({ node, instance_id: instanceId }, n),
  };
}

/** Serves GET /metrics on host:port. */
export async function serveMetrics(m: Metrics, addr: { host: string; port: number }, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      m.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': m.registry.contentType });
          res.end(body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => resolve());
  });
  const a = server.address();
  log.info({ address: typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a) }, 'metrics listening');
  return server;
}
