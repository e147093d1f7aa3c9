import { TAG_COPY_OF, TAG_COPY_RETAIN, TAG_COPY_SOURCE_REGION, TAG_COPY_TO_REGION, type SnapshotInfo, type Tags } from '@plinth/cloud';
import { failedPrecondition, isPlinthError } from '@plinth/errors';
import { defineOperation, differingFields, later, type Handler, type OpContext } from '@plinth/queue';
import { z } from 'zod';
import type { Cloud } from '../cloud.js';
import type { CopyTracker } from '../copy-tracker.js';
import type { NamesSeen } from '../names-seen.js';
import { copyParamsSchema, type CopyParams } from '../params/copy-params.js';

export interface CopySnapshotJob {
  sourceSnapshotId: string;
  copy: CopyParams;
  /** The copy's tags: its source's, and which snapshot and region it is a copy of. */
  tags: Tags;
}

export interface CopySnapshotResult {
  region: string;
  /** The copy; null when the source was deleted before it was copied. */
  snapshotId: string | null;
  state: 'completed' | 'source-deleted';
}

/**
 * The cross-region copy of one snapshot, keyed by the snapshot and the region: queued when the snapshot is
 * taken, it waits for the snapshot to complete, copies it (CopySnapshot in the destination region) and watches
 * the copy until EC2 completes it, releasing its worker and lease between checks (`later`), so it may take
 * hours and survives restarts. It holds the snapshot's lease while it acts, as DeleteSnapshot does.
 */
export const copySnapshotOperation = defineOperation<CopySnapshotJob, CopySnapshotResult>({
  name: 'copy-snapshot',
  data: z.object({ sourceSnapshotId: z.string(), copy: copyParamsSchema, tags: z.record(z.string(), z.string()) }),
  key: (job) => `${job.sourceSnapshotId}:${job.copy.region}`,
  locks: (job) => [`snapshot:${job.sourceSnapshotId}`],
  describe: (job) => `copy of snapshot ${job.sourceSnapshotId} to ${job.copy.region}`,
  conflicts: (mine, theirs) =>
    differingFields(mine.copy, theirs.copy, { encrypted: 'encrypted', kmsKeyId: 'KMS key', retain: 'retain' } satisfies Partial<
      Record<keyof CopyParams, string>
    >),
});

/** A copy's tags: the source's own (but EC2's reserved `aws:` ones and the copy request), and what it is a copy of. */
export function copyTags(source: Tags, sourceSnapshotId: string, sourceRegion: string): Tags {
  const tags = Object.fromEntries(Object.entries(source).filter(([k]) => !k.startsWith('aws:') && k !== TAG_COPY_TO_REGION && k !== TAG_COPY_RETAIN));
  return { ...tags, [TAG_COPY_OF]: sourceSnapshotId, [TAG_COPY_SOURCE_REGION]: sourceRegion };
}

/** The job that copies `source` as its class asks (`copy`). */
export function copyJob(source: SnapshotInfo, copy: CopyParams, sourceRegion: string): CopySnapshotJob {
  return { sourceSnapshotId: source.id, copy, tags: copyTags(source.tags, source.id, sourceRegion) };
}

const MAX_WAIT_MS = 60_000;

/** How long to wait before looking again at something EC2 started at `startedAt`: a tenth of its age so far, within [min, 60 s]. */
function nextCheck(startedAt: Date | undefined, minMs: number): number {
  const age = startedAt ? Date.now() - new Date(startedAt).getTime() : 0;
  return Math.min(MAX_WAIT_MS, Math.max(minMs, age / 10));
}

export interface CopyDeps {
  cloud: Cloud;
  /** Whether a copy may already have been asked for (recorded before CopySnapshot, as CreateVolume records names). */
  seen: NamesSeen;
  tracker: CopyTracker;
  /** Shortest time between two checks (EC2_POLL_INTERVAL_MS). */
  pollIntervalMs: number;
}

export function copySnapshotOp(d: CopyDeps): Handler<CopySnapshotJob, CopySnapshotResult> {
  return async (job, ctx) => {
    const { sourceSnapshotId: src, copy } = job;
    const key = `${src}:${copy.region}`;
    const log = ctx.log.child({ snapshotId: src, region: copy.region });
    const fail = async (message: string): Promise<never> => {
      await d.tracker.failed(key);
      log.warn({ reason: message }, 'snapshot copy failed');
      throw failedPrecondition(`copy of snapshot ${src} to ${copy.region} failed: ${message}`);
    };
    await d.tracker.pending(key);

    const source = (await d.cloud.api.snapshots.get([src], ctx.signal)).get(src);
    if (!source) {
      await d.tracker.ended(key);
      log.info('snapshot deleted before its copy completed; copy job ends');
      return { region: copy.region, snapshotId: null, state: 'source-deleted' };
    }
    if (source.state === 'error') return fail(`snapshot ${src} failed in EC2 (state error); there is nothing to copy`);
    if (source.state !== 'completed') throw later(nextCheck(source.startedAt, d.pollIntervalMs), `snapshot ${src} is ${source.state}`);

    const there = d.cloud.api.inRegion(copy.region);
    const found = (await d.seen.firstSight(`copy:${key}`)) ? undefined : await existingCopy(d.cloud, there, src, ctx);
    if (!found) {
      await startCopy(there.snapshots, job, d.cloud.api.region, ctx, fail);
      log.info('snapshot copy started');
      throw later(d.pollIntervalMs, 'copy started');
    }
    if (found.state === 'completed') {
      await d.tracker.ended(key);
      log.info({ copyId: found.id }, 'snapshot copy completed');
      return { region: copy.region, snapshotId: found.id, state: 'completed' };
    }
    if (found.state === 'error') return fail(`EC2 reports the copy ${found.id} in state error`);
    throw later(nextCheck(found.startedAt, d.pollIntervalMs), `copy ${found.id} is ${found.state} (${found.progress ?? '?'})`);
  };
}

/** The copy an earlier attempt made, found by its `plinth.dev/copy-of` tag in the destination region. */
async function existingCopy(cloud: Cloud, there: ReturnType<Cloud['api']['inRegion']>, src: string, ctx: OpContext): Promise<SnapshotInfo | undefined> {
  const copies = (await there.snapshots.findByTag(cloud.clusterId, TAG_COPY_OF, [src], ctx.signal)).get(src) ?? [];
  return copies.find((c) => c.state !== 'error') ?? copies[0];
}

async function startCopy(
  snapshots: ReturnType<Cloud['api']['inRegion']>['snapshots'],
  job: CopySnapshotJob,
  sourceRegion: string,
  ctx: OpContext,
  fail: (message: string) => Promise<never>,
): Promise<string> {
  const { sourceSnapshotId: src, copy } = job;
  try {
    return await snapshots.copy(
      {
        sourceSnapshotId: src,
        sourceRegion,
        description: `Plinth copy of ${src} from ${sourceRegion}`,
        encrypted: copy.encrypted,
        kmsKeyId: copy.kmsKeyId,
        tags: job.tags,
      },
      ctx.signal,
    );
  } catch (err) {
    if (!isPlinthError(err)) throw err;
    // EC2 takes only so many copies into a region at once (ResourceLimitExceeded): wait for a place.
    if (err.kind === 'ResourceExhausted') throw later(MAX_WAIT_MS, err.message);
    if (err.kind === 'FailedPrecondition' || err.kind === 'InvalidArgument' || err.kind === 'NotFound' || err.kind === 'Unimplemented')
      return fail(err.message);
    throw err;
  }
}

/**
 * Deletes the copies of `source` made for its class, in their region (unless the class keeps them: copySnapshotRetain);
 * DeleteSnapshot does this before it deletes the source, so a retry after a crash still knows where they are.
 */
export async function deleteCopies(cloud: Cloud, source: SnapshotInfo, signal: AbortSignal, log: OpContext['log']): Promise<void> {
  const region = source.tags[TAG_COPY_TO_REGION];
  if (!region) return;
  if (source.tags[TAG_COPY_RETAIN] === 'true') {
    log.info({ snapshotId: source.id, region }, 'snapshot copy retained (copySnapshotRetain)');
    return;
  }
  const there = cloud.api.inRegion(region);
  const copies = (await there.snapshots.findByTag(cloud.clusterId, TAG_COPY_OF, [source.id], signal)).get(source.id) ?? [];
  for (const c of copies) {
    await there.snapshots.delete(c.id, signal).catch((err: unknown) => {
      if (!(isPlinthError(err) && err.kind === 'NotFound')) throw err;
    });
    log.info({ snapshotId: source.id, region, copyId: c.id }, 'snapshot copy deleted');
  }
}
