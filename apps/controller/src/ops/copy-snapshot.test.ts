import { setTimeout as sleep } from 'node:timers/promises';
import { TAG_CLUSTER, TAG_COPY_OF, TAG_COPY_SOURCE_REGION } from '@plinth/cloud';
import { MemoryCloud } from '@plinth/cloud/memory';
import { createLogger } from '@plinth/logger';
import { Later, type Handler, type OpContext } from '@plinth/queue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Cloud } from '../cloud.js';
import { MemoryCopyTracker } from '../copy-tracker.js';
import { MemoryNamesSeen } from '../names-seen.js';
import { parseSnapshotParams } from '../params/snapshot-params.js';
import { copyJob, copySnapshotOp, deleteCopies, type CopySnapshotJob, type CopySnapshotResult } from './copy-snapshot.js';
import { createSnapshotOp } from './create-snapshot.js';
import { deleteSnapshotOp } from './delete-snapshot.js';

const log = createLogger({ name: 'test', level: 'silent' });
const ctx = (): OpContext => ({ signal: new AbortController().signal, jobId: 'j', attempt: 1, log });
const DEST = 'us-west-2';

/** Runs a job's handler as the queue does: again after each `later`, until it answers or fails; counts the steps. */
async function toEnd(run: Handler<CopySnapshotJob, CopySnapshotResult>, job: CopySnapshotJob): Promise<{ result: CopySnapshotResult; steps: number }> {
  for (let steps = 1; ; steps++) {
    try {
      return { result: await run(job, ctx()), steps };
    } catch (err) {
      if (!(err instanceof Later)) throw err;
      await sleep(Math.min(err.ms, 20));
    }
  }
}

describe('cross-region snapshot copies on the in-memory cloud', () => {
  let cloud: Cloud | undefined;
  const setup = (delays = { create: 10, snapshot: 40, copy: 40 }) => {
    const api = new MemoryCloud({ delays });
    cloud = new Cloud(api, 'c1', { pollIntervalMs: 10, log });
    const tracker = new MemoryCopyTracker();
    const seen = new MemoryNamesSeen();
    const copy = copySnapshotOp({ cloud, seen, tracker, pollIntervalMs: 10 });
    return { api, cloud, tracker, seen, copy };
  };
  afterEach(() => cloud?.watcher.close(new Error('test over')));

  const snapshotOf = async (c: Cloud, params: Record<string, string> = { copySnapshotToRegion: DEST }) => {
    const v = await c.api.volumes.create({ zone: 'us-east-1a', sizeGiB: 2, type: 'gp3', tags: { [TAG_CLUSTER]: 'c1' } });
    await sleep(15);
    const submitted: CopySnapshotJob[] = [];
    const take = createSnapshotOp(c, (j) => Promise.resolve(void submitted.push(j)));
    const snap = await take({ name: 'snap-1', sourceVolumeId: v.id, params: parseSnapshotParams(params, 'us-east-1') }, ctx());
    return { snap, submitted };
  };

  it('queues the copy when the snapshot is taken, waits for the snapshot, copies it once and watches the copy to completed', async () => {
    const { api, cloud, tracker, copy } = setup();
    const { snap, submitted } = await snapshotOf(cloud, { copySnapshotToRegion: DEST, copySnapshotEncrypted: 'true' });
    expect(snap.readyToUse).toBe(false);
    expect(submitted).toHaveLength(1);
    const job = submitted[0]!;
    expect(job).toMatchObject({ sourceSnapshotId: snap.snapshotId, copy: { region: DEST, encrypted: true, retain: false } });
    expect(job.tags).toMatchObject({
      CSIVolumeSnapshotName: 'snap-1',
      [TAG_CLUSTER]: 'c1',
      [TAG_COPY_OF]: snap.snapshotId,
      [TAG_COPY_SOURCE_REGION]: 'us-east-1',
    });
    expect(job.tags).not.toHaveProperty('plinth.dev/copy-to-region');

    const copies = vi.spyOn(api.inRegion(DEST).snapshots, 'copy');
    const { result, steps } = await toEnd(copy, job);
    // At least: one wait for the snapshot or the copy, then the answer.
    expect(steps).toBeGreaterThan(1);
    expect(result).toEqual({ region: DEST, snapshotId: expect.stringMatching(/^snap-/) as unknown, state: 'completed' });
    expect(copies).toHaveBeenCalledTimes(1);
    const made = (await api.inRegion(DEST).snapshots.get([result.snapshotId!])).get(result.snapshotId!);
    expect(made).toMatchObject({ state: 'completed', encrypted: true, tags: job.tags });
    expect(await tracker.count()).toBe(0);
    expect(tracker.failures).toEqual([]);
  });

  it('a recovered job (the copy may have been asked for) finds the copy by its tag instead of copying again', async () => {
    const { api, cloud, seen, tracker } = setup({ create: 0, snapshot: 0, copy: 0 });
    const { submitted } = await snapshotOf(cloud);
    const job = submitted[0]!;
    const first = await toEnd(copySnapshotOp({ cloud, seen, tracker, pollIntervalMs: 10 }), job);
    // A crash after CopySnapshot: the job runs again from the start (the record of the first sight stays in Redis).
    const copies = vi.spyOn(api.inRegion(DEST).snapshots, 'copy');
    const again = await toEnd(copySnapshotOp({ cloud, seen, tracker, pollIntervalMs: 10 }), job);
    expect(again.result).toEqual(first.result);
    expect(copies).not.toHaveBeenCalled();
    const there = await api.inRegion(DEST).snapshots.findByTag('c1', TAG_COPY_OF, [job.sourceSnapshotId]);
    expect(there.get(job.sourceSnapshotId)).toHaveLength(1);
  });

  it('ends quietly when the snapshot is deleted before it is copied', async () => {
    const { api, cloud, tracker, copy } = setup({ create: 0, snapshot: 0, copy: 0 });
    const { submitted } = await snapshotOf(cloud);
    await api.snapshots.delete(submitted[0]!.sourceSnapshotId);
    expect((await toEnd(copy, submitted[0]!)).result).toEqual({ region: DEST, snapshotId: null, state: 'source-deleted' });
    expect((await api.inRegion(DEST).snapshots.findByTag('c1', TAG_COPY_OF, [submitted[0]!.sourceSnapshotId])).size).toBe(0);
    expect(await tracker.count()).toBe(0);
  });

  it('fails for good, counted, when EC2 refuses the copy (a KMS key it cannot use), naming the snapshot and region', async () => {
    const { api, cloud, tracker, copy } = setup({ create: 0, snapshot: 0, copy: 0 });
    const { submitted } = await snapshotOf(cloud);
    api.failIn(DEST, 'CopySnapshot', 'KMSKeyNotAccessibleFault');
    await expect(toEnd(copy, submitted[0]!)).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining(`copy of snapshot ${submitted[0]!.sourceSnapshotId} to ${DEST} failed`) as unknown,
    });
    expect(tracker.failures).toEqual([`${submitted[0]!.sourceSnapshotId}:${DEST}`]);
    expect(await tracker.count()).toBe(0);
  });

  it('waits (later) instead of failing while EC2 has too many copies into the region (ResourceLimitExceeded)', async () => {
    const { api, cloud, copy } = setup({ create: 0, snapshot: 0, copy: 0 });
    const { submitted } = await snapshotOf(cloud);
    api.failIn(DEST, 'CopySnapshot', 'ResourceLimitExceeded');
    await expect(copy(submitted[0]!, ctx())).rejects.toBeInstanceOf(Later);
  });

  it('DeleteSnapshot deletes the copy in its region first, unless the class retains it', async () => {
    const { api, cloud, copy } = setup({ create: 0, snapshot: 0, copy: 0 });
    const { submitted } = await snapshotOf(cloud);
    const { result } = await toEnd(copy, submitted[0]!);
    await deleteSnapshotOp(cloud)({ snapshotId: submitted[0]!.sourceSnapshotId }, ctx());
    expect((await api.snapshots.get([submitted[0]!.sourceSnapshotId])).size).toBe(0);
    expect((await api.inRegion(DEST).snapshots.get([result.snapshotId!])).size).toBe(0);

    const kept = setup({ create: 0, snapshot: 0, copy: 0 });
    const retained = await snapshotOf(kept.cloud, { copySnapshotToRegion: DEST, copySnapshotRetain: 'true' });
    const done = await toEnd(kept.copy, retained.submitted[0]!);
    await deleteSnapshotOp(kept.cloud)({ snapshotId: retained.submitted[0]!.sourceSnapshotId }, ctx());
    expect((await kept.api.snapshots.get([retained.submitted[0]!.sourceSnapshotId])).size).toBe(0);
    expect((await kept.api.inRegion(DEST).snapshots.get([done.result.snapshotId!])).get(done.result.snapshotId!)?.state).toBe('completed');
    kept.cloud.watcher.close(new Error('test over'));
  });

  it('copyJob keeps the source tags but the copy request and EC2-reserved ones', () => {
    const job = copyJob(
      {
        id: 'snap-1',
        state: 'completed',
        encrypted: false,
        tags: { a: '1', 'aws:backup:source-resource': 'x', 'plinth.dev/copy-to-region': DEST, 'plinth.dev/copy-retain': 'true' },
      },
      { region: DEST, encrypted: false, retain: true },
      'us-east-1',
    );
    expect(job.tags).toEqual({ a: '1', [TAG_COPY_OF]: 'snap-1', [TAG_COPY_SOURCE_REGION]: 'us-east-1' });
  });

  it('deleteCopies leaves a snapshot without a copy request alone', async () => {
    const { api, cloud } = setup();
    const there = vi.spyOn(api, 'inRegion');
    await deleteCopies(cloud, { id: 'snap-1', state: 'completed', encrypted: false, tags: {} }, new AbortController().signal, log);
    expect(there).not.toHaveBeenCalled();
  });
});
