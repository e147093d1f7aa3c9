import { MemoryCloud } from '@plinth/cloud/memory';
import { createLogger } from '@plinth/logger';
import type { OpContext } from '@plinth/queue';
import { afterEach, describe, expect, it } from 'vitest';
import { Cloud } from '../cloud.js';
import { MemoryDeviceNames } from '../devices.js';
import { publishOp } from './publish.js';
import { DEFAULT_STUCK_ATTACH_MS, isStuckAttaching, STUCK_ATTACH_RETRIES } from './publish-stuck.js';

const log = createLogger({ name: 'test', level: 'silent' });

describe('isStuckAttaching', () => {
  const at = (state: string, attachedAt?: number) => ({
    instanceId: 'i-1',
    device: '/dev/xvdba',
    state,
    ...(attachedAt !== undefined ? { attachedAt: new Date(attachedAt) } : {}),
  });

  it('is stuck only while attaching, from EC2’s attach time when it gives one, else from when this process asked', () => {
    expect(isStuckAttaching(at('attaching', 0), 90_000, 90_000, 50_000)).toBe(true);
    expect(isStuckAttaching(at('attaching', 0), 89_999, 90_000, 0)).toBe(false);
    expect(isStuckAttaching(at('attaching'), 90_000, 90_000, 10_000)).toBe(false);
    expect(isStuckAttaching(at('attaching'), 100_000, 90_000, 10_000)).toBe(true);
    for (const state of ['attached', 'detaching', 'detached', 'busy']) expect(isStuckAttaching(at(state, 0), 1e9, 90_000, 0)).toBe(false);
    expect(isStuckAttaching(undefined, 1e9, 90_000, 0)).toBe(false);
  });

  it('defaults to aws-ebs-csi-driver’s 90 s', () => {
    expect(DEFAULT_STUCK_ATTACH_MS).toBe(90_000);
  });
});

describe('publish with an attachment that sticks in attaching (in-memory cloud)', () => {
  let cloud: Cloud | undefined;
  afterEach(() => cloud?.watcher.close(new Error('test over')));
  const ctx = (): OpContext => ({ signal: new AbortController().signal, jobId: 'j', attempt: 1, log });

  const setup = async () => {
    const api = new MemoryCloud({ delays: { create: 0, attach: 20, detach: 20 } });
    cloud = new Cloud(api, 'c1', { pollIntervalMs: 10, log });
    const node = api.addInstance();
    const vol = await api.volumes.create({ zone: node.zone, sizeGiB: 1, type: 'gp3', tags: { CSIVolumeName: 'pvc-1' } });
    const devices = new MemoryDeviceNames();
    let forced = 0;
    const publish = publishOp(cloud, devices, () => Promise.resolve(0), undefined, { afterMs: 150, onForceDetach: () => (forced += 1) });
    return { api, node, volumeId: vol.id, devices, publish, forced: () => forced };
  };

  it('force-detaches a stuck attachment, counts it, attaches again and answers the new device', async () => {
    const { api, node, volumeId, devices, publish, forced } = await setup();
    api.stickAttachments(1);
    const out = await publish({ volumeId, nodeId: node.id, accessMode: '1', readonly: false }, ctx());
    expect(forced()).toBe(1);
    expect((await api.volumes.get([volumeId])).get(volumeId)?.attachments).toEqual([
      expect.objectContaining({ instanceId: node.id, state: 'attached', device: out.devicePath }),
    ]);
    expect(await devices.held(node.id)).toEqual(new Map([[out.devicePath, volumeId]]));
  });

  it(`gives up UNAVAILABLE after ${STUCK_ATTACH_RETRIES} stuck attempts, leaving nothing attached and no device name held`, async () => {
    const { api, node, volumeId, devices, publish, forced } = await setup();
    api.stickAttachments(STUCK_ATTACH_RETRIES);
    await expect(publish({ volumeId, nodeId: node.id, accessMode: '1', readonly: false }, ctx())).rejects.toMatchObject({
      kind: 'Unavailable',
      message: expect.stringContaining(`stuck attaching to node ${node.id}`) as unknown,
    });
    expect(forced()).toBe(STUCK_ATTACH_RETRIES);
    expect((await api.volumes.get([volumeId])).get(volumeId)?.attachments).toEqual([]);
    expect((await devices.held(node.id)).size).toBe(0);
    // The caller's retry attaches (nothing sticks any more).
    await expect(publish({ volumeId, nodeId: node.id, accessMode: '1', readonly: false }, ctx())).resolves.toMatchObject({
      devicePath: expect.any(String) as unknown,
    });
  });

  it('leaves an attachment that completes in time alone', async () => {
    const { node, volumeId, publish, forced } = await setup();
    await publish({ volumeId, nodeId: node.id, accessMode: '1', readonly: false }, ctx());
    expect(forced()).toBe(0);
  });
});
