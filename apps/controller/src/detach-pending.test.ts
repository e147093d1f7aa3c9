import { MemoryCloud } from '@plinth/cloud/memory';
import { createLogger } from '@plinth/logger';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Cloud } from './cloud.js';
import { DetachPending } from './detach-pending.js';
import { MemoryDeviceNames } from './devices.js';
import { unpublishOp } from './ops/unpublish.js';

const scrape = async (r: Registry) => (await r.metrics()).split('\n').filter((l) => l.startsWith('aws_ebs_csi_ec2_detach_pending_seconds_total{'));

describe('aws_ebs_csi_ec2_detach_pending_seconds_total', () => {
  it('reports a detach pending 60 s or more with its last seen state, and drops it once detached', async () => {
    let now = 1_000_000;
    const registry = new Registry();
    const d = new DetachPending(registry, () => now);
    d.track('vol-1', 'i-1', 'detaching');
    now += 30_000;
    expect(await scrape(registry)).toEqual([]);
    d.track('vol-1', 'i-1', 'busy');
    now += 45_000;
    expect(await scrape(registry)).toEqual(['aws_ebs_csi_ec2_detach_pending_seconds_total{volume_id="vol-1",instance_id="i-1",attachment_state="busy"} 75']);
    d.track('vol-1', 'i-1', 'detached');
    expect(await scrape(registry)).toEqual([]);
  });

  it('is fed by the unpublish operation while EC2 detaches', async () => {
    const log = createLogger({ name: 'test', level: 'silent' });
    const api = new MemoryCloud({ delays: { detach: 40 } });
    const cloud = new Cloud(api, 'c1', { pollIntervalMs: 10, log });
    const node = api.addInstance();
    const vol = await api.volumes.create({ zone: 'us-east-1a', sizeGiB: 1, type: 'gp3', tags: {} });
    await api.attachments.attach(vol.id, node.id, '/dev/xvdba');
    const seen: (string | undefined)[] = [];
    const pending = { track: (_v: string, _i: string, state: string | undefined) => seen.push(state), clear: () => seen.push('cleared') };
    await unpublishOp(
      cloud,
      new MemoryDeviceNames(),
      undefined,
      pending,
    )(
      { volumeId: vol.id, nodeId: node.id },
      {
        signal: new AbortController().signal,
        jobId: 'j',
        attempt: 1,
        log,
      },
    );
    cloud.watcher.close(new Error('done'));
    expect(seen[0]).toBe('detaching');
    expect(seen.at(-1)).toBeUndefined();
  });
});
