import { failedPrecondition, fromSerialized, notFound, type SerializedError } from '@plinth/errors';
import { Queue, type Job } from 'bullmq';
import { connectRedis, type RedisConnection } from '@plinth/redis';
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME } from './defaults.js';

/** Where a job is: waiting its turn, running, or finished (kept for operators until its retention ends). */
export type JobState = 'active' | 'waiting' | 'delayed' | 'prioritized' | 'waiting-children' | 'failed' | 'completed';

/** States of jobs not yet finished. */
export const IN_FLIGHT_STATES: readonly JobState[] = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'];
/** Every state, in-flight ones first. */
export const JOB_STATES: readonly JobState[] = [...IN_FLIGHT_STATES, 'failed', 'completed'];

/** One operation job as Plinth sees it (no queue internals). */
export interface JobRecord {
  id: string;
  /** The operation's name: create, delete, publish, unpublish… */
  operation: string;
  /** The natural key the job is deduplicated by (`pvc-…`, `vol-…:i-…`). */
  key: string;
  state: JobState;
  /**
   * ok: done; refused: ended with a domain error (not retried); failed: a
   * transient error on its last attempt; null while in flight.
   */
  outcome: 'ok' | 'refused' | 'failed' | null;
  /** Attempts made so far, and allowed in all. */
  attemptsMade: number;
  attempts: number;
  /** The refusal or failure as Plinth's serialized domain error; for a job waiting to be retried, the last attempt's. */
  error: SerializedError | null;
  /** What the operation returned (outcome ok), else null. */
  result: unknown;
  /** The operation's input. */
  data: unknown;
  /** Milliseconds since the epoch. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** The parts of a queue job the read side looks at (a BullMQ Job has them all). */
export interface StoredJob {
  id?: string | undefined;
  name: string;
  data: unknown;
  returnvalue: unknown;
  failedReason?: string | undefined;
  attemptsMade: number;
  opts: { attempts?: number | undefined };
  timestamp: number;
  processedOn?: number | undefined;
  finishedOn?: number | undefined;
}

/**
 * A job's failure reason as a domain error: Operations stores the error's
 * JSON ({kind,message}); anything else (BullMQ's own text, such as a stalled
 * job's) becomes Internal with that text.
 */
export function failureOf(reason: string | undefined): SerializedError | null {
  if (!reason) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(reason);
  } catch {
    return { kind: 'Internal', message: reason };
  }
  const err = fromSerialized(parsed);
  // fromSerialized answers a generic Internal for anything not {kind,message} of a known kind.
  return looksSerialized(parsed) ? err.toJSON() : { kind: 'Internal', message: reason };
}

function looksSerialized(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const { kind, message } = v as Record<string, unknown>;
  return typeof kind === 'string' && typeof message === 'string' && fromSerialized(v).kind === kind;
}

/** A stored job in `state` as a JobRecord. */
export function toRecord(job: StoredJob, state: JobState): JobRecord {
  const data = (typeof job.data === 'object' && job.data !== null ? job.data : {}) as { key?: unknown; data?: unknown };
  const rv = (typeof job.returnvalue === 'object' && job.returnvalue !== null ? job.returnvalue : null) as {
    ok?: unknown;
    value?: unknown;
    error?: unknown;
  } | null;
  let outcome: JobRecord['outcome'] = null;
  let error: JobRecord['error'] = null;
  let result: unknown = null;
  if (state === 'failed') {
    outcome = 'failed';
    error = failureOf(job.failedReason) ?? { kind: 'Internal', message: 'the job failed without a reason' };
  } else if (state === 'completed' && rv) {
    if (rv.ok === true) {
      outcome = 'ok';
      result = rv.value ?? null;
    } else {
      outcome = 'refused';
      error = looksSerialized(rv.error) ? fromSerialized(rv.error).toJSON() : { kind: 'Internal', message: 'the job ended with an unreadable error' };
    }
  } else if (job.failedReason) {
    // waiting for another attempt after a transient failure
    error = failureOf(job.failedReason);
  }
  return {
    id: job.id ?? '',
    operation: job.name,
    key: typeof data.key === 'string' ? data.key : '',
    state,
    outcome,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    error,
    result,
    data: data.data ?? null,
    createdAt: job.timestamp,
    startedAt: job.processedOn ? job.processedOn : null,
    finishedAt: job.finishedOn ? job.finishedOn : null,
  };
}

export interface JobsOptions {
  /** A redis:// or rediss:// URL, or settings from @plinth/redis (Sentinel, TLS, ACL user). */
  redisUrl: RedisConnection;
  /** The queue Operations runs (default "plinth-ops"). */
  queueName?: string;
  /** Its Redis key prefix (default "plinth"). */
  prefix?: string;
  /** Connection errors (the client reconnects by itself). */
  onError?: (err: Error) => void;
}

export interface ListOptions {
  /** Default: every state. */
  states?: readonly JobState[];
  operation?: string;
  /** Any further condition on a job. */
  where?: (job: JobRecord) => boolean;
  /** Jobs to skip (a page's nextOffset). */
  offset?: number;
  /** Jobs per page (default 50). */
  limit?: number;
  /** Jobs looked at per state at most, so a filter that matches little cannot walk an unbounded queue (default 10000). */
  scanLimit?: number;
}

export interface JobPage {
  /** Newest first. */
  items: JobRecord[];
  /** The offset of the next page, or null when this is the last one (or the scan limit was reached). */
  nextOffset: number | null;
}

/**
 * The read side of the operation queue, for operators (the admin API): jobs
 * by state with paging, one job, retry of a failed job, removal of one that is
 * not running. Needs only Redis; it runs no worker.
 */
export class Jobs {
  private readonly queue: Queue;
  private readonly redis: Redis;

  constructor(opts: JobsOptions) {
    this.redis = connectRedis(opts.redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue(opts.queueName ?? DEFAULT_QUEUE_NAME, { connection: this.redis, prefix: opts.prefix ?? DEFAULT_PREFIX });
    const onError = opts.onError ?? (() => undefined);
    this.redis.on('error', onError);
    this.queue.on('error', onError);
  }

  /** Jobs in each state. */
  async counts(): Promise<Record<JobState, number>> {
    return (await this.queue.getJobCounts(...JOB_STATES)) as Record<JobState, number>;
  }

  /** Jobs by state and operation (finished ones included while kept), looking at up to `scanLimit` jobs per state. */
  async depth(scanLimit = 10_000): Promise<{ state: JobState; operation: string; count: number }[]> {
    const rows = new Map<string, { state: JobState; operation: string; count: number }>();
    const scans = await Promise.all(JOB_STATES.map((state) => this.scan(state, scanLimit, scanLimit, () => true)));
    for (const job of scans.flatMap((s) => s.jobs)) {
      const k = `${job.state}\u0000${job.operation}`;
      const row = rows.get(k) ?? { state: job.state, operation: job.operation, count: 0 };
      row.count += 1;
      rows.set(k, row);
    }
    return [...rows.values()];
  }

  /** A page of jobs in `states`, newest first. */
  async list(opts: ListOptions = {}): Promise<JobPage> {
    const offset = Math.max(0, Math.trunc(opts.offset ?? 0));
    const limit = Math.max(1, Math.trunc(opts.limit ?? 50));
    const scanLimit = opts.scanLimit ?? 10_000;
    const want = offset + limit;
    const match = (j: JobRecord) => (!opts.operation || j.operation === opts.operation) && (!opts.where || opts.where(j));
    const scans = await Promise.all((opts.states ?? JOB_STATES).map((state) => this.scan(state, want + 1, scanLimit, match)));
    const all = scans.flatMap((s) => s.jobs).sort((a, b) => b.createdAt - a.createdAt);
    const items = all.slice(offset, want);
    return { items, nextOffset: all.length > want ? want : null };
  }

  /** One job, or undefined when there is none with that id (never was, or removed after its retention). */
  async get(id: string): Promise<JobRecord | undefined> {
    const job = await this.queue.getJob(id);
    if (!job) return undefined;
    const state = await job.getState();
    return state === 'unknown' ? undefined : toRecord(job, state);
  }

  /**
   * Puts a failed job back in the queue for another round of attempts
   * (counted from zero unless resetAttempts is false) and returns it as it
   * now is. NotFound without the job, FailedPrecondition when it has not failed.
   */
  async retry(id: string, opts: { resetAttempts?: boolean } = {}): Promise<JobRecord> {
    const { job, state } = await this.load(id);
    if (state !== 'failed') throw failedPrecondition(`job ${id} is ${state}; only failed jobs can be retried`);
    const reset = opts.resetAttempts ?? true;
    try {
      await job.retry('failed', { resetAttemptsMade: reset, resetAttemptsStarted: reset });
    } catch (err) {
      throw failedPrecondition(`job ${id} could not be retried (${(await this.get(id))?.state ?? 'gone'}); reload it and try again`, { cause: err });
    }
    const now = await this.get(id);
    if (!now) throw notFound(`job ${id} was removed while it was being retried`);
    return now;
  }

  /**
   * Removes a job that is not running: cancels a waiting or delayed one
   * (callers waiting on it see their deadline pass and retry), or drops a
   * finished one's record. Returns the job as it was removed. NotFound
   * without the job, FailedPrecondition while it runs.
   */
  async cancel(id: string): Promise<JobRecord> {
    const { job, state } = await this.load(id);
    if (state === 'active') throw failedPrecondition(`job ${id} is running; it can be removed once it has finished or failed`);
    try {
      await job.remove();
    } catch (err) {
      // It started between the look-up and the removal (a running job is locked).
      throw failedPrecondition(`job ${id} is running; it can be removed once it has finished or failed`, { cause: err });
    }
    return toRecord(job, state);
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async load(id: string): Promise<{ job: Job; state: JobState }> {
    const job = await this.queue.getJob(id);
    const state = job ? await job.getState() : 'unknown';
    if (!job || state === 'unknown') throw notFound(`job ${id} not found (it may have been removed after its retention period)`);
    return { job, state };
  }

  /** Up to `want` matching jobs in `state`, newest first, looking at no more than `scanLimit`. */
  private async scan(state: JobState, want: number, scanLimit: number, match: (j: JobRecord) => boolean): Promise<{ jobs: JobRecord[] }> {
    const jobs: JobRecord[] = [];
    const chunk = Math.min(Math.max(want, 100), 1000);
    for (let start = 0; jobs.length < want && start < scanLimit; start += chunk) {
      const end = Math.min(start + chunk, scanLimit) - 1;
      const batch = await this.queue.getJobs([state], start, end, false);
      for (const job of batch) {
        if (!job) continue;
        const r = toRecord(job, state);
        if (match(r)) jobs.push(r);
      }
      if (batch.length < end - start + 1) break;
    }
    return { jobs: jobs.slice(0, want) };
  }
}
