import { Counter, Histogram, type Registry } from 'prom-client';
import type { Ec2Observer } from './call.js';

const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * EC2 request metrics, the same names in every Plinth process that calls EC2
 * (told apart by the scrape's job label): requests by action and outcome
 * (ok, error, throttled) and latency by action.
 *
 * Alongside, aws-ebs-csi-driver's names (its docs/metrics.md), so dashboards
 * and alerts written for it keep working: successful requests' latency by
 * `request`, errors by `request` and EC2 error code, throttled requests by
 * `request`. Its code labels errors `code` and throttles `operation_name`
 * where its docs say `error` and `request`; both spellings are set, to the
 * same value, so queries written either way match. Each attempt counts, as
 * there (a retried call is several requests).
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
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const awsDuration = new Histogram({
    name: 'aws_ebs_csi_api_request_duration_seconds',
    help: 'Duration of successful EC2 API requests by request type in seconds (aws-ebs-csi-driver compatible)',
    labelNames: ['request'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const awsErrors = new Counter({
    name: 'aws_ebs_csi_api_request_errors_total',
    help: 'Total number of EC2 API errors by error code and request type, throttling excluded (aws-ebs-csi-driver compatible)',
    labelNames: ['request', 'error', 'code'],
    registers: [registry],
  });
  const awsThrottles = new Counter({
    name: 'aws_ebs_csi_api_request_throttles_total',
    help: 'Total number of throttled EC2 API requests per request type (aws-ebs-csi-driver compatible)',
    labelNames: ['request', 'operation_name'],
    registers: [registry],
  });
  return {
    onCall: (action, outcome, seconds, code) => {
      calls.inc({ action, outcome });
      latency.observe({ action }, seconds);
      if (outcome === 'ok') awsDuration.observe({ request: action }, seconds);
      else if (outcome === 'throttled') awsThrottles.inc({ request: action, operation_name: action });
      else awsErrors.inc({ request: action, error: code ?? 'Unknown', code: code ?? 'Unknown' });
    },
  };
}
