/**
 * The EBS NVMe metrics end to end on the emulated Nitro host: a real loop device presented as an EBS volume, staged
 * and published by the agent over gRPC, written and read through the mount with direct I/O; the agent's /metrics
 * (scraped over HTTP) reads each volume's log page through the emulator's `nvme`, built from the loop device's
 * real I/O statistics.
 */
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installNvmeCli } from '../../../../test/nitro/nvme-cli.js';
import { mountCap, newVolumeId, startTestAgent, TEST_IDENTITY, type TestAgent } from '../../../../test/support/node-agent.js';
import { createFakeHost, detachAll, type FakeHost } from '../../../../test/support/nvme.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

describe('EBS NVMe metrics on the emulated Nitro host', () => {
  let host: FakeHost;
  let t: TestAgent;
  beforeAll(async () => {
    host = await createFakeHost();
    const nvme = await installNvmeCli(host.root, host.sysRoot);
    t = await startTestAgent(host, { METRICS_ADDRESS: '127.0.0.1:0', NVME_CLI: nvme });
  });
  afterAll(async () => {
    await t?.close();
    await host?.cleanup();
    await detachAll();
  });

  const scrape = async (): Promise<string> => {
    const addr = t.agent.metrics?.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${addr.port}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  /** One sample's value; undefined when absent. */
  const sample = (body: string, name: string, volumeId: string): number | undefined => {
    const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`volume_id="${volumeId}"`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const paths = (volumeId: string) => ({
    staging: join(host.kubeletRoot, 'plugins/kubernetes.io/csi/ebs.csi.plinth.dev', volumeId, 'globalmount'),
    target: join(host.kubeletRoot, 'pods/pod-1/volumes/kubernetes.io~csi', volumeId, 'mount'),
  });

  it('a staged volume is exported with instance_id and volume_id; writes and reads through the mount grow its ops and bytes', async () => {
    const volumeId = newVolumeId();
    const idle = newVolumeId();
    await host.present(await host.loop(128 * MiB), { volumeId });
    await host.present(await host.loop(64 * MiB), { volumeId: idle });
    const { staging, target } = paths(volumeId);
    await t.api.stage({ volumeId, stagingTargetPath: staging, volumeCapability: mountCap(), publishContext: {}, secrets: {}, volumeContext: {} });
    await t.api.publish({
      volumeId,
      stagingTargetPath: staging,
      targetPath: target,
      volumeCapability: mountCap(),
      readonly: false,
      publishContext: {},
      secrets: {},
      volumeContext: {},
    });

    const before = await scrape();
    expect(before).toContain(`aws_ebs_csi_write_ops_total{instance_id="${TEST_IDENTITY.nodeId}",volume_id="${volumeId}"}`);
    // Attached but neither staged nor published: not exported (as aws-ebs-csi-driver, which looks at the kubelet's mounts).
    expect(before).not.toContain(idle);
    const w0 = { ops: sample(before, 'aws_ebs_csi_write_ops_total', volumeId) ?? NaN, bytes: sample(before, 'aws_ebs_csi_write_bytes_total', volumeId) ?? NaN };
    const r0 = { ops: sample(before, 'aws_ebs_csi_read_ops_total', volumeId) ?? NaN, bytes: sample(before, 'aws_ebs_csi_read_bytes_total', volumeId) ?? NaN };

    // 4 MiB written through the pod's mount with O_DIRECT, then fsync'd.
    const file = join(target, 'data.bin');
    await exec('dd', ['if=/dev/urandom', `of=${file}`, 'bs=1M', 'count=4', 'oflag=direct', 'conv=fsync', 'status=none'], { timeout: 60_000 });
    const written = await scrape();
    expect(sample(written, 'aws_ebs_csi_write_ops_total', volumeId)).toBeGreaterThan(w0.ops);
    expect(sample(written, 'aws_ebs_csi_write_bytes_total', volumeId)).toBeGreaterThanOrEqual(w0.bytes + 4 * MiB);

    // Read back with O_DIRECT: past the page cache, so the device serves it.
    await exec('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M', 'iflag=direct', 'status=none'], { timeout: 60_000 });
    const read = await scrape();
    expect(sample(read, 'aws_ebs_csi_read_ops_total', volumeId)).toBeGreaterThan(r0.ops);
    expect(sample(read, 'aws_ebs_csi_read_bytes_total', volumeId)).toBeGreaterThanOrEqual(r0.bytes + 4 * MiB);
    // The latency histogram counts the same operations.
    expect(sample(read, 'aws_ebs_csi_read_io_latency_seconds_count', volumeId)).toBe(sample(read, 'aws_ebs_csi_read_ops_total', volumeId));
    expect(read).toMatch(/aws_ebs_csi_nvme_collector_errors_total\{instance_id="[^"]+"\} 0\n/);

    // Unpublished and unstaged: gone from the next scrape.
    await t.api.unpublish({ volumeId, targetPath: target });
    await t.api.unstage({ volumeId, stagingTargetPath: staging });
    expect(await scrape()).not.toContain(volumeId);
  });
});
