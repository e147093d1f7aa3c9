import { MemoryCloud } from '@plinth/cloud/memory';
import { createLogger } from '@plinth/logger';
import type { OpContext } from '@plinth/queue';
import { afterEach, describe, expect, it } from 'vitest';
import { GiB } from '../capacity.js';
import { Cloud } from '../cloud.js';
import { parseVolumeParams } from '../params/volume-params.js';
import { createSnapshotOp } from './create-snapshot.js';
import { createVolumeOp, type CreateVolumeJob } from './create-volume.js';
import { removeSnapshot } from './delete-snapshot.js';
import { deleteVolumeOp } from './delete-volume.js';

const log = createLogger({ name: 'test', level: 'silent' });
const ctx = (): OpContext => ({ signal: new AbortController().signal, jobId: 'j', attempt: 1, log });
const job = (over: Partial<CreateVolumeJob> = {}): CreateVolumeJob => ({
  name: 'pvc-1',
  sizeGiB: 4,
  requiredBytes: 4 * GiB,
  limitBytes: 0,
  zone: 'us-east-1a',
  allowedZones: [],
  params: parseVolumeParams({}),
  multiAttach: false,
  ...over,
});

/** The controller's operations against the in-memory EC2, with EC2-like delays. */
describe('operations on the in-memory cloud', () => {
  let cloud: Cloud | undefined;
  const setup = () => {
    const api = new MemoryCloud({ delays: { create: 30, attach: 30, detach: 30, snapshot: 30 } });
    cloud = new Cloud(api, 'c1', { pollIntervalMs: 10, log });
    return { api, cloud };
  };
  afterEach(() => cloud?.watcher.close(new Error('test over')));

  it('creates a volume once per name, waits until it is available, and refuses the name with another size', async () => {
    const { cloud } = setup();
    const create = createVolumeOp(cloud);
    const made = await create(job(), ctx());
    expect(made).toEqual({ volumeId: expect.stringMatching(/^vol-/) as unknown, sizeGiB: 4, zone: 'us-east-1a' });
    expect((await cloud.api.volumes.get([made.volumeId])).get(made.volumeId)).toMatchObject({ state: 'available', tags: { CSIVolumeName: 'pvc-1', 'plinth.dev/cluster-id': 'c1' } });
    expect(await create(job(), ctx())).toEqual(made);
    await expect(create(job({ sizeGiB: 8, requiredBytes: 8 * GiB }), ctx())).rejects.toMatchObject({ kind: 'AlreadyExists' });
  });

  it('refuses to delete an attached volume naming the node, and deletes it once detached; a gone one is success', async () => {
    const { api, cloud } = setup();
    const node = api.addInstance();
    const { volumeId } = await createVolumeOp(cloud)(job(), ctx());
    await api.attachments.attach(volumeId, node.id, '/dev/xvdba');
    const remove = deleteVolumeOp(cloud);
    await expect(remove({ volumeId }, ctx())).rejects.toMatchObject({ kind: 'FailedPrecondition', message: expect.stringContaining(node.id) as unknown });
    await api.attachments.detach(volumeId, node.id);
    await cloud.watcher.waitFor(volumeId, (v) => v?.state === 'available', 5000);
    await remove({ volumeId }, ctx());
    await expect(remove({ volumeId: 'vol-0123456789abcdef0' }, ctx())).resolves.toEqual({});
  });

  it('takes a snapshot once per name and deletes it; a throttled EC2 surfaces as Unavailable', async () => {
    const { api, cloud } = setup();
    const { volumeId } = await createVolumeOp(cloud)(job(), ctx());
    const snap = createSnapshotOp(cloud);
    const params = { tags: {}, fastRestoreZones: [], metadataTags: {} };
    const first = await snap({ name: 'snap-1', sourceVolumeId: volumeId, params }, ctx());
    expect(first).toMatchObject({ sourceVolumeId: volumeId, readyToUse: false });
    expect((await snap({ name: 'snap-1', sourceVolumeId: volumeId, params }, ctx())).snapshotId).toBe(first.snapshotId);
    api.throttle(1);
    await expect(removeSnapshot(cloud, first.snapshotId, ctx().signal)).rejects.toMatchObject({ kind: 'Unavailable' });
    await removeSnapshot(cloud, first.snapshotId, ctx().signal);
    expect((await api.snapshots.get([first.snapshotId])).size).toBe(0);
  });
});
