import { setTimeout as sleep } from 'node:timers/promises';
import { causeCode, type Cloud as CloudApi, type VolumeInfo, type VolumeModificationInfo } from '@plinth/cloud';
import { failedPrecondition, isPlinthError, notFound, resourceExhausted, unavailable, type ErrorKind } from '@plinth/errors';
import { defineOperation, type Handler, type OpContext } from '@plinth/queue';
import { z } from 'zod';
import type { Cloud } from '../cloud.js';
import { checkShape, modifiedShape, type ShapeChange, type VolumeShape } from '../params/shape.js';
import { isVolumeType, limitsOf } from '../params/volume-types.js';
import type { ModifyRequests, VolumeChange, VolumeState } from './modify-requests.js';

export interface ModifyJob {
  volumeId: string;
}

/** One ModifyVolume for every resize/modify request recorded for the volume; calls join it whatever they ask (their requests merge in Redis). */
export const modifyVolumeOperation = defineOperation<ModifyJob, VolumeState>({
  name: 'modify',
  data: z.object({ volumeId: z.string() }),
  key: (job) => job.volumeId,
  locks: (job) => [`volume:${job.volumeId}`],
  describe: (job) => `volume ${job.volumeId}`,
});

/** EC2's documented wait between two modifications of one volume. */
const COOLDOWN_MS = 6 * 3600_000;
const MODIFY_TIMEOUT_MS = 5 * 60_000;
/** Failures BullMQ retries: the requests stay for the next attempt. */
const RETRIED: ReadonlySet<ErrorKind> = new Set(['Unavailable', 'Aborted', 'Internal', 'DeadlineExceeded']);

/** The volume's type, size and performance; IOPS only for types that take a setting (EC2 reports gp2's baseline too). */
export function shapeOf(vol: VolumeInfo): VolumeShape {
  const type = vol.type;
  if (!isVolumeType(type)) throw failedPrecondition(`volume ${vol.id} has type ${type || 'unknown'}, which Plinth does not modify`);
  const lim = limitsOf(type);
  return { type, sizeGiB: vol.sizeGiB, iops: lim.iops ? vol.iops : undefined, throughput: lim.throughput ? vol.throughput : undefined };
}

export function stateOf(vol: VolumeInfo): VolumeState {
  return { sizeGiB: vol.sizeGiB, type: vol.type, iops: vol.iops, throughput: vol.throughput, tags: { ...vol.tags } };
}

/** The latest modification of a volume (by start time; EC2 reports only the latest, some emulators all), or undefined if it was never modified. */
export async function latestModification(api: CloudApi, volumeId: string, signal?: AbortSignal): Promise<VolumeModificationInfo | undefined> {
  let latest: VolumeModificationInfo | undefined;
  for (const m of await api.volumes.modifications(volumeId, signal))
    if (!latest || (m.startedAt?.getTime() ?? 0) >= (latest.startedAt?.getTime() ?? 0)) latest = m;
  return latest;
}

/**
 * The ModifyVolume fields `wanted` changes. A new type carries the IOPS and
 * throughput asked for even where they equal today's, since EC2 would
 * otherwise give the new type its defaults.
 */
export function shapeDiff(current: VolumeShape, wanted: VolumeChange): ShapeChange {
  const diff: ShapeChange = {};
  const newType = wanted.type !== undefined && wanted.type !== current.type;
  if (wanted.sizeGiB !== undefined && wanted.sizeGiB > current.sizeGiB) diff.sizeGiB = wanted.sizeGiB;
  if (newType) diff.type = wanted.type;
  if (wanted.iops !== undefined && (newType || wanted.iops !== current.iops)) diff.iops = wanted.iops;
  if (wanted.throughput !== undefined && (newType || wanted.throughput !== current.throughput)) diff.throughput = wanted.throughput;
  return diff;
}

/** Tags `wanted` adds or changes. */
export function tagDiff(vol: VolumeInfo, wanted: VolumeChange): Record<string, string> {
  const have = stateOf(vol).tags;
  return Object.fromEntries(Object.entries(wanted.tags ?? {}).filter(([k, v]) => have[k] !== v));
}

const done = (m: VolumeModificationInfo | undefined): boolean => m?.state === 'optimizing' || m?.state === 'completed';
const iso = (d: Date | undefined): string => (d ? d.toISOString() : 'an unknown time');

/** When EC2 takes the next modification by its documented rule: 6 hours after the last one started, and not before that one completed. */
export function nextModificationAt(last: VolumeModificationInfo | undefined): Date | undefined {
  if (!last?.startedAt) return undefined;
  return new Date(Math.max(last.startedAt.getTime() + COOLDOWN_MS, last.endedAt?.getTime() ?? 0));
}

/** The RESOURCE_EXHAUSTED message for EC2's per-volume modification limit, with when the wait ends. */
export function cooldownMessage(volumeId: string, last: VolumeModificationInfo | undefined, ec2: string): string {
  const next = nextModificationAt(last);
  const when = last?.startedAt
    ? ` Its last modification started at ${iso(last.startedAt)}${last.endedAt ? ` and completed at ${iso(last.endedAt)}` : ` and is ${last.state}`}; by EC2's 6-hour rule the next one is possible from ${iso(next)}. Retry after that time.`
    : ' Retry in 6 hours.';
  return `volume ${volumeId} cannot be modified again yet: EC2 limits how often one volume may be modified (${ec2}).${when}`;
}

/** The RESOURCE_EXHAUSTED message for a modification EC2 is still applying (optimizing): no other is taken until it completes. */
export function inProgressMessage(volumeId: string, last: VolumeModificationInfo | undefined, ec2: string): string {
  const progress = last?.progress !== undefined ? `, ${last.progress}% done` : '';
  return (
    `volume ${volumeId} is still applying its last modification (${last?.state ?? 'in progress'}${progress}, started at ${iso(last?.startedAt)}); ` +
    `EC2 takes another only once it completes, and by its 6-hour rule not before ${iso(nextModificationAt(last))} (${ec2}). Retry after that time.`
  );
}

/**
 * The modify job, one per volume at a time (lease `volume:<id>`): reads every
 * change requested of the volume (ModifyRequests), issues at most one
 * ModifyVolume for all of them and one CreateTags, and answers once EC2 has
 * the modification `optimizing` or `completed`. Nothing already in place is
 * sent again (EC2 counts even a no-op ModifyVolume as a modification).
 */
export function modifyVolumeOp(cloud: Cloud, requests: ModifyRequests, opts: { pollIntervalMs: number }): Handler<ModifyJob, VolumeState> {
  const latest = (volumeId: string, signal: AbortSignal) => latestModification(cloud.api, volumeId, signal);

  /** Waits while the volume's latest modification is `modifying`; `failed` is refused. */
  async function settle(volumeId: string, ctx: OpContext, mod: VolumeModificationInfo | undefined): Promise<void> {
    const until = Date.now() + MODIFY_TIMEOUT_MS;
    let m = mod;
    while (m?.state === 'modifying') {
      if (Date.now() > until) throw unavailable(`volume ${volumeId} is still being modified after ${MODIFY_TIMEOUT_MS / 60_000} minutes; retrying`);
      await sleep(opts.pollIntervalMs, undefined, { signal: ctx.signal });
      m = await latest(volumeId, ctx.signal);
    }
    if (m?.state === 'failed') throw failedPrecondition(`EC2 could not modify volume ${volumeId}: ${m.message ?? 'modification failed'}`);
  }

  /** EC2's refusals of a ModifyVolume, as errors that say when to retry. */
  async function refusal(volumeId: string, err: unknown, ctx: OpContext): Promise<unknown> {
    const code = causeCode(err);
    const ec2 = `${code}: ${(err as { cause?: Error }).cause?.message ?? ''}`;
    if (code === 'VolumeModificationRateExceeded') return resourceExhausted(cooldownMessage(volumeId, await latest(volumeId, ctx.signal), ec2), { cause: err });
    if (code === 'IncorrectModificationState') {
      const last = await latest(volumeId, ctx.signal);
      if (last?.state === 'modifying') return unavailable(`volume ${volumeId} is being modified already; retrying`, { cause: err });
      return resourceExhausted(inProgressMessage(volumeId, last, ec2), { cause: err });
    }
    if (code === 'VolumeModificationSizeLimitExceeded')
      return resourceExhausted(`volume ${volumeId}: the account's limit on storage being modified at once is reached (${ec2}); retry later`, { cause: err });
    return err;
  }

  async function apply(volumeId: string, wanted: VolumeChange, ctx: OpContext): Promise<VolumeState> {
    let vol = await cloud.volumes.get(volumeId);
    if (!vol) throw notFound(`volume ${volumeId} not found`);
    const last = await latest(volumeId, ctx.signal);
    if (last?.state === 'modifying') {
      // Ours from a crashed attempt, or someone else's: let it reach optimizing first.
      await settle(volumeId, ctx, last);
      vol = await cloud.volumes.get(volumeId);
      if (!vol) throw notFound(`volume ${volumeId} disappeared while being modified`);
    }
    const current = shapeOf(vol);
    let diff = shapeDiff(current, wanted);
    const tags = tagDiff(vol, wanted);
    let refused: VolumeState['refused'];
    try {
      checkShape(modifiedShape(current, diff), diff);
    } catch (err) {
      // The type, IOPS or throughput asked for do not fit even the size asked for: refuse them, still grow and tag.
      if (!isPlinthError(err)) throw err;
      const grow: ShapeChange = diff.sizeGiB !== undefined ? { sizeGiB: diff.sizeGiB } : {};
      checkShape(modifiedShape(current, grow), grow);
      refused = { change: { type: wanted.type, iops: wanted.iops, throughput: wanted.throughput }, error: err.toJSON() };
      diff = grow;
    }
    if (Object.keys(diff).length > 0) {
      let mod: VolumeModificationInfo | undefined;
      try {
        mod = await cloud.api.volumes.modify(volumeId, diff, ctx.signal);
      } catch (err) {
        throw await refusal(volumeId, err, ctx);
      }
      ctx.log.info({ volumeId, ...diff }, 'volume modification started');
      if (!done(mod)) await settle(volumeId, ctx, await latest(volumeId, ctx.signal));
    }
    if (Object.keys(tags).length > 0) {
      await cloud.api.volumes.tag(volumeId, tags, ctx.signal);
      ctx.log.info({ volumeId, tags: Object.keys(tags) }, 'volume tags set');
    }
    // A key both set and deleted in one round is set (the later VolumeAttributesClass cannot be told apart).
    const had = vol.tags;
    const drop = (wanted.deleteTags ?? []).filter((k) => k in had && !(k in tags));
    if (drop.length > 0) {
      await cloud.api.volumes.untag(volumeId, drop, ctx.signal);
      ctx.log.info({ volumeId, tags: drop }, 'volume tags deleted');
    }
    if (Object.keys(diff).length > 0) {
      vol = await cloud.volumes.get(volumeId);
      if (!vol) throw notFound(`volume ${volumeId} disappeared while being modified`);
      const left = shapeDiff(shapeOf(vol), diff);
      if (Object.keys(left).length > 0) throw unavailable(`volume ${volumeId} does not show ${JSON.stringify(left)} yet; retrying`);
    }
    const state = stateOf(vol);
    const after = { ...state.tags, ...tags };
    for (const k of wanted.deleteTags ?? []) if (!(k in tags)) delete after[k];
    return { ...state, tags: after, refused };
  }

  return async ({ volumeId }, ctx) => {
    const { change, fields } = await requests.read(volumeId);
    try {
      const state = await apply(volumeId, change, ctx);
      await requests.forget(volumeId, fields);
      return state;
    } catch (err) {
      // A refusal answers every request it read (their callers ask again); a retried failure keeps them for the next attempt.
      if (isPlinthError(err) && !RETRIED.has(err.kind)) await requests.forget(volumeId, fields);
      throw err;
    }
  };
}
