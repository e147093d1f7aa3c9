import { createServer, type Server } from 'node:http';
import { ec2Metrics, type Ec2Observer } from '@plinth/cloud';
import { HealthGauge, type RpcObserver } from '@plinth/csi';
import type { CopyTracker } from './copy-tracker.js';
import { DetachPending } from './detach-pending.js';
import type { Readiness } from './readiness.js';
import type { Operations } from '@plinth/queue';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The controller's Prometheus metrics. */
export class Metrics {
  readonly registry = new Registry();
  private readonly rpc = new Histogram({
    name: 'plinth_csi_rpc_duration_seconds',
    help: 'CSI RPC latency by method and gRPC code',
    labelNames: ['method', 'code'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly jobs = new Histogram({
    name: 'plinth_queue_job_duration_seconds',
    help: 'Queue job run time by operation and outcome (ok, error = refused, failed = will retry)',
    labelNames: ['operation', 'outcome'],
    buckets: [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  private readonly overhead = new Histogram({
    name: 'plinth_operation_overhead_seconds',
    help: "Plinth's own time per queued operation: enqueue to result, minus the time its job spent waiting on EC2",
    labelNames: ['operation'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly attachWait = new Histogram({
    name: 'plinth_pending_attach_duration_seconds',
    help: 'From AttachVolume until EC2 reports the volume attached',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly detachWait = new Histogram({
    name: 'plinth_pending_detach_duration_seconds',
    help: 'From DetachVolume until EC2 reports the volume detached',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly stuck = new Counter({
    name: 'plinth_stuck_attachments_total',
    help: 'Attachments force-detached (and attached again) after staying attaching past STUCK_ATTACH_TIMEOUT_MS',
    registers: [this.registry],
  });

  private readonly copiesFailed = new Counter({
    name: 'plinth_snapshot_copies_failed_total',
    help: 'Cross-region snapshot copies that failed for good (source or copy in state error, or EC2 refused the copy)',
    registers: [this.registry],
  });
  /** plinth_volume_health: what the last ControllerGetVolumeHealth / ControllerListVolumeHealth found wrong. */
  readonly health = new HealthGauge(
    this.registry,
    'Volume health problems the controller last reported (EC2 state, status checks, attachments), 1 per volume, status and reason; healthy volumes have no series',
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'plinth_controller_' });
  }

  /** Queue depth by state, read from Redis at scrape time. */
  watchQueue(ops: Operations): void {
    new Gauge({
      name: 'plinth_queue_jobs',
      help: 'Jobs in the operation queue by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const counts = await ops.counts().catch(() => ({}));
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
  }

  /** Cross-region snapshot copies under way (waiting for their source, or copying), read from Redis at scrape time. */
  watchCopies(tracker: CopyTracker): void {
    new Gauge({
      name: 'plinth_snapshot_copies_pending',
      help: 'Cross-region snapshot copies under way: waiting for their snapshot to complete, or being copied',
      registers: [this.registry],
      async collect() {
        const n = await tracker.count().catch(() => undefined);
        if (n !== undefined) this.set(n);
      },
    });
  }

  readonly onCopyFailed = (): void => this.copiesFailed.inc();

  readonly observeRpc: RpcObserver = (method, code, seconds) => this.rpc.observe({ method, code }, seconds);

  readonly ec2Observer: Ec2Observer = ec2Metrics(this.registry);

  readonly onOverhead = (operation: string, seconds: number): void => this.overhead.observe({ operation }, seconds);

  /** How long attaches and detaches stayed pending at EC2. */
  readonly pending = {
    attached: (seconds: number): void => this.attachWait.observe(seconds),
    detached: (seconds: number): void => this.detachWait.observe(seconds),
    stuckAttach: (): void => this.stuck.inc(),
  };

  /** aws-ebs-csi-driver's aws_ebs_csi_ec2_detach_pending_seconds_total. */
  readonly detachPending = new DetachPending(this.registry);

  readonly onJobDone = (operation: string, outcome: string, seconds: number): void => this.jobs.observe({ operation, outcome }, seconds);

  /**
   * Serves /metrics on host:port, with /healthz (liveness: the process answers) and, given `readiness`,
   * /readyz: 200 when Redis and EC2 answer, else 503 with the reasons naming each unreachable dependency.
   */
  async serve(address: string, readiness?: Readiness): Promise<Server> {
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    const server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (req.url === '/readyz' && readiness) {
        readiness.check().then(
          (r) => res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
          (e: unknown) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: false, reasons: [String(e)] })),
        );
        return;
      }
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
    return server;
  }
}
