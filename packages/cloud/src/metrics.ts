import { Counter, Histogram, type Registry } from 'prom-client';
import type { Ec2Observer } from './call.js';

/**
 * EC2 request metrics, the same names in every Plinth process that calls EC2
 * (told apart by the scrape's job label): requests by action and outcome
 * (ok, error, throttled) and latency by action.
 */
export function ec2Metrics(registry: Registry): Ec2Observer {
  const calls = new Counter({
    name: 'plinth_ec2_api_requests_total',
    help: 'EC2 API requests by action and outcome (ok, error, throttled)',
    labelNames: ['action', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'plinth_ec2_api_request_duration_seconds',
    help: 'EC2 API request latency by action',
    labelNames: ['action'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    onCall: (action, outcome, seconds) => {
      calls.inc({ action, outcome });
      latency.observe({ action }, seconds);
    },
  };
}
