import { createLogger } from '@plinth/logger';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { callEc2 } from './call.js';
import { ec2Metrics } from './metrics.js';

const log = createLogger({ name: 'metrics-test', level: 'silent' });

async function values(
  registry: Registry,
  name: string,
): Promise<{ labels: Partial<Record<string, string | number>>; value: number; metricName?: string | undefined }[]> {
  const m = registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  return (await m.get()).values;
}

describe('EC2 request metrics', () => {
  it('keeps Plinth’s names and adds aws-ebs-csi-driver’s: duration of successes, errors by code, throttles', async () => {
    const registry = new Registry();
    const o = ec2Metrics(registry);
    o.onCall('DescribeVolumes', 'ok', 0.2);
    o.onCall('AttachVolume', 'throttled', 0.1, 'RequestLimitExceeded');
    o.onCall('CreateVolume', 'error', 0.3, 'VolumeLimitExceeded');
    o.onCall('CreateVolume', 'error', 0.3);

    expect(await values(registry, 'plinth_ec2_api_requests_total')).toEqual(
      expect.arrayContaining([
        { labels: { action: 'DescribeVolumes', outcome: 'ok' }, value: 1 },
        { labels: { action: 'AttachVolume', outcome: 'throttled' }, value: 1 },
        { labels: { action: 'CreateVolume', outcome: 'error' }, value: 2 },
      ]),
    );
    const durations = (await values(registry, 'aws_ebs_csi_api_request_duration_seconds')).filter(
      (v) => v.metricName === 'aws_ebs_csi_api_request_duration_seconds_count',
    );
    expect(durations).toEqual([{ labels: { request: 'DescribeVolumes' }, value: 1, metricName: 'aws_ebs_csi_api_request_duration_seconds_count' }]);
    expect(await values(registry, 'aws_ebs_csi_api_request_throttles_total')).toEqual([
      { labels: { request: 'AttachVolume', operation_name: 'AttachVolume' }, value: 1 },
    ]);
    expect(await values(registry, 'aws_ebs_csi_api_request_errors_total')).toEqual([
      { labels: { request: 'CreateVolume', error: 'VolumeLimitExceeded', code: 'VolumeLimitExceeded' }, value: 1 },
      { labels: { request: 'CreateVolume', error: 'Unknown', code: 'Unknown' }, value: 1 },
    ]);
  });

  it('gets EC2’s error code from a failed call', async () => {
    const registry = new Registry();
    const observer = ec2Metrics(registry);
    const notFound = Object.assign(new Error('The volume does not exist'), { name: 'InvalidVolume.NotFound', $metadata: { httpStatusCode: 400 } });
    await expect(callEc2({ log, observer, retryBudgetMs: 0 }, 'DeleteVolume', 'volume vol-1', () => Promise.reject(notFound))).rejects.toThrow();
    expect(await values(registry, 'aws_ebs_csi_api_request_errors_total')).toEqual([
      { labels: { request: 'DeleteVolume', error: 'InvalidVolume.NotFound', code: 'InvalidVolume.NotFound' }, value: 1 },
    ]);
  });
});
