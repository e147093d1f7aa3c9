import { ec2Metrics, type Ec2Observer } from '@plinth/cloud';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The API's Prometheus metrics (EC2 metric names match the controller's, told apart by the scrape's job label). */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly http = new Histogram({
    name: 'plinth_api_request_duration_seconds',
    help: 'Admin API request latency by route, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'plinth_api_' });
  }

  readonly ec2Observer: Ec2Observer = ec2Metrics(this.registry);

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.http.observe({ route, method, status: String(status) }, seconds);
  }

  /** Gauges read at scrape time: queue depth by state and operation, EC2 read cache hits. */
  watch(opts: { queueDepth: () => Promise<{ state: string; operation: string; count: number }[]>; cache: () => { hits: number; misses: number } }): void {
    new Gauge({
      name: 'plinth_queue_jobs',
      help: 'Jobs in the operation queue by state and operation',
      labelNames: ['state', 'operation'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await opts.queueDepth().catch(() => []);
        for (const r of rows) this.set({ state: r.state, operation: r.operation }, r.count);
      },
    });
    new Gauge({
      name: 'plinth_api_ec2_cache_lookups',
      help: 'EC2 read cache look-ups since start, by result (hit includes joining an in-flight call)',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        const s = opts.cache();
        this.set({ result: 'hit' }, s.hits);
        this.set({ result: 'miss' }, s.misses);
      },
    });
  }
}
