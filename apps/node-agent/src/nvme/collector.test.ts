import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseExposition, type Sample } from '../../../../test/infra/monitoring.js';
import { encodeEbsLogPage, type EmulatedPage } from '../../../../test/nitro/nvme-cli.js';
import { blockCap, fakeContext, OTHER, publishReq, stageReq, VOL } from '../node/fake-context.js';
import { nodePublishVolume } from '../node/publish.js';
import { nodeStageVolume } from '../node/stage.js';
import { registerNvmeCollector } from './collector.js';

const INSTANCE = 'i-0123456789abcdef0';
const THIRD = 'vol-0aaaabbbbccccdddd';

const pageOf = (over: Partial<EmulatedPage> = {}): Uint8Array =>
  encodeEbsLogPage({
    readOps: 10,
    writeOps: 20,
    readBytes: 40_960,
    writeBytes: 81_920,
    readTimeUs: 1_500_000,
    writeTimeUs: 250_000,
    volumeIopsExceededUs: 2_000_000,
    volumeThroughputExceededUs: 3_000_000,
    instanceIopsExceededUs: 4_000_000,
    instanceThroughputExceededUs: 5_000_000,
    queueLength: 7,
    readLatency: [
      { lowerUs: 0, upperUs: 1000, count: 4 },
      { lowerUs: 1000, upperUs: 500_000, count: 6 },
    ],
    writeLatency: [{ lowerUs: 0, upperUs: 100, count: 20 }],
    ...over,
  });

const value = (all: Sample[], name: string, labels: Record<string, string>): number | undefined =>
  all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

/** A fake node with VOL staged (ext4) and published, OTHER published as a raw block volume, THIRD attached but not in use. */
async function node() {
  const { ctx, os } = fakeContext();
  const vol = os.addDevice({ volumeId: VOL });
  const other = os.addDevice({ volumeId: OTHER });
  const third = os.addDevice({ volumeId: THIRD });
  await nodeStageVolume(ctx, stageReq());
  await nodePublishVolume(ctx, publishReq());
  await nodePublishVolume(
    ctx,
    publishReq({
      volumeId: OTHER,
      volumeCapability: blockCap(),
      targetPath: `${ctx.kubeletRoot}/plugins/kubernetes.io/csi/volumeDevices/publish/${OTHER}/pod-1`,
    }),
  );
  vol.logPage = pageOf();
  other.logPage = pageOf({ readOps: 1, writeOps: 2 });
  third.logPage = pageOf();
  const registry = new Registry();
  registerNvmeCollector({ registry, os, kubeletRoot: ctx.kubeletRoot, instanceId: INSTANCE, log: ctx.log });
  return { os, vol, other, registry };
}

describe('NVMe collector (aws-ebs-csi-driver EBS NVMe metrics)', () => {
  it("exports every counter, the queue gauge and both latency histograms with the anchor's names, types and labels", async () => {
    const { registry } = await node();
    const text = await registry.metrics();
    for (const [name, type] of [
      ['aws_ebs_csi_read_ops_total', 'counter'],
      ['aws_ebs_csi_write_ops_total', 'counter'],
      ['aws_ebs_csi_read_bytes_total', 'counter'],
      ['aws_ebs_csi_write_bytes_total', 'counter'],
      ['aws_ebs_csi_read_seconds_total', 'counter'],
      ['aws_ebs_csi_write_seconds_total', 'counter'],
      ['aws_ebs_csi_exceeded_iops_seconds_total', 'counter'],
      ['aws_ebs_csi_exceeded_tp_seconds_total', 'counter'],
      ['aws_ebs_csi_ec2_exceeded_iops_seconds_total', 'counter'],
      ['aws_ebs_csi_ec2_exceeded_tp_seconds_total', 'counter'],
      ['aws_ebs_csi_nvme_collector_scrapes_total', 'counter'],
      ['aws_ebs_csi_nvme_collector_errors_total', 'counter'],
      ['aws_ebs_csi_volume_queue_length', 'gauge'],
      ['aws_ebs_csi_read_io_latency_seconds', 'histogram'],
      ['aws_ebs_csi_write_io_latency_seconds', 'histogram'],
      ['aws_ebs_csi_nvme_collector_duration_seconds', 'histogram'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    const all = parseExposition(text);
    const vol = { instance_id: INSTANCE, volume_id: VOL };
    expect(value(all, 'aws_ebs_csi_read_ops_total', vol)).toBe(10);
    expect(value(all, 'aws_ebs_csi_write_ops_total', vol)).toBe(20);
    expect(value(all, 'aws_ebs_csi_read_bytes_total', vol)).toBe(40_960);
    expect(value(all, 'aws_ebs_csi_write_bytes_total', vol)).toBe(81_920);
    expect(value(all, 'aws_ebs_csi_read_seconds_total', vol)).toBe(1.5);
    expect(value(all, 'aws_ebs_csi_write_seconds_total', vol)).toBe(0.25);
    expect(value(all, 'aws_ebs_csi_exceeded_iops_seconds_total', vol)).toBe(2);
    expect(value(all, 'aws_ebs_csi_exceeded_tp_seconds_total', vol)).toBe(3);
    expect(value(all, 'aws_ebs_csi_ec2_exceeded_iops_seconds_total', vol)).toBe(4);
    expect(value(all, 'aws_ebs_csi_ec2_exceeded_tp_seconds_total', vol)).toBe(5);
    expect(value(all, 'aws_ebs_csi_volume_queue_length', vol)).toBe(7);
    // Cumulative counts at each bin's upper bound in seconds; the sum is the total time of the completed reads.
    expect(value(all, 'aws_ebs_csi_read_io_latency_seconds_bucket', { ...vol, le: '0.001' })).toBe(4);
    expect(value(all, 'aws_ebs_csi_read_io_latency_seconds_bucket', { ...vol, le: '0.5' })).toBe(10);
    expect(value(all, 'aws_ebs_csi_read_io_latency_seconds_bucket', { ...vol, le: '+Inf' })).toBe(10);
    expect(value(all, 'aws_ebs_csi_read_io_latency_seconds_count', vol)).toBe(10);
    expect(value(all, 'aws_ebs_csi_read_io_latency_seconds_sum', vol)).toBe(1.5);
    expect(value(all, 'aws_ebs_csi_write_io_latency_seconds_bucket', { ...vol, le: '0.0001' })).toBe(20);
    // The raw block volume is exported too; the attached volume nothing uses is not.
    expect(value(all, 'aws_ebs_csi_read_ops_total', { instance_id: INSTANCE, volume_id: OTHER })).toBe(1);
    expect(all.some((s) => s.labels.volume_id === THIRD)).toBe(false);
    expect(value(all, 'aws_ebs_csi_nvme_collector_scrapes_total', { instance_id: INSTANCE })).toBe(1);
    expect(value(all, 'aws_ebs_csi_nvme_collector_errors_total', { instance_id: INSTANCE })).toBe(0);
    expect(value(all, 'aws_ebs_csi_nvme_collector_duration_seconds_count', { instance_id: INSTANCE })).toBe(1);
  });

  it('reads each volume once per scrape, at scrape time: the counters follow the device', async () => {
    const { os, vol, registry } = await node();
    await registry.metrics();
    expect(os.callsOf('ebsLogPage')).toHaveLength(2);
    vol.logPage = pageOf({ writeOps: 25, writeBytes: 102_400 });
    const all = parseExposition(await registry.metrics());
    expect(os.callsOf('ebsLogPage')).toHaveLength(4);
    expect(value(all, 'aws_ebs_csi_write_ops_total', { volume_id: VOL })).toBe(25);
    expect(value(all, 'aws_ebs_csi_write_bytes_total', { volume_id: VOL })).toBe(102_400);
    expect(value(all, 'aws_ebs_csi_nvme_collector_scrapes_total', {})).toBe(2);
  });

  it('a volume whose page cannot be read or parsed counts an error and drops out; the others are still exported', async () => {
    const { os, vol, other, registry } = await node();
    delete other.logPage;
    const bad = pageOf();
    new DataView(bad.buffer).setUint32(0, 0x1234, true);
    vol.logPage = bad;
    let all = parseExposition(await registry.metrics());
    expect(value(all, 'aws_ebs_csi_nvme_collector_errors_total', {})).toBe(2);
    expect(all.some((s) => s.name === 'aws_ebs_csi_read_ops_total')).toBe(false);

    vol.logPage = pageOf();
    all = parseExposition(await registry.metrics());
    expect(value(all, 'aws_ebs_csi_read_ops_total', { volume_id: VOL })).toBe(10);
    expect(all.some((s) => s.labels.volume_id === OTHER)).toBe(false);
    expect(value(all, 'aws_ebs_csi_nvme_collector_errors_total', {})).toBe(3);

    os.failNext('mounts', new Error('mountinfo unreadable'));
    all = parseExposition(await registry.metrics());
    expect(value(all, 'aws_ebs_csi_nvme_collector_errors_total', {})).toBe(4);
    expect(all.some((s) => s.name === 'aws_ebs_csi_read_ops_total')).toBe(false);
  });

  it('a node with nothing staged exports only the collector metrics', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL }).logPage = pageOf();
    const registry = new Registry();
    registerNvmeCollector({ registry, os, kubeletRoot: ctx.kubeletRoot, instanceId: INSTANCE, log: ctx.log });
    const all = parseExposition(await registry.metrics());
    expect(all.filter((s) => s.labels.volume_id !== undefined)).toEqual([]);
    expect(value(all, 'aws_ebs_csi_nvme_collector_scrapes_total', {})).toBe(1);
    expect(os.callsOf('ebsLogPage')).toHaveLength(0);
  });
});
