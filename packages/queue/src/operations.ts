import { randomUUID } from 'node:crypto';
import {
  alreadyExists,
  deadlineExceeded,
  fromSerialized,
  internal,
  isPlinthError,
  unavailable,
  type ErrorKind,
  type PlinthError,
  type SerializedError,
} from '@plinth/errors';
import type { Logger } from '@plinth/logger';
import { DelayedError, Job, Queue, QueueEvents, Worker, type ConnectionOptions } from 'bullmq';
import { connectRedis, type RedisConnection } from '@plinth/redis';
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME } from './defaults.js';
import { Leases } from './leases.js';
import { Later, type AnyOperation, type Handler, type Handlers, type Operation } from './operation.js';

/** How a job ends, as stored in Redis: a domain error is a result, not a failure. `externalMs`: time it spent waiting on the cloud. */
type Outcome<R> = ({ ok: true; value: R } | { ok: false; error: SerializedError }) & { externalMs?: number };

interface JobData {
  key: string;
  data: unknown;
}

export interface OperationsOptions {
  /** A redis:// or rediss:// URL, or settings from @plinth/redis (Sentinel, TLS, ACL user). */
  redisUrl: RedisConnection;
  log: Logger;
  queueName?: string;
  /** Redis key prefix for BullMQ (default "plinth"). */
  prefix?: string;
  /** Jobs this process runs at once (they mostly wait on EC2). */
  concurrency?: number;
  /** BullMQ job lock: a crashed worker's job is taken over after about this long. */
  lockDurationMs?: number;
  /** Attempts for jobs that fail with a transient error. */
  attempts?: number;
  /** Time budget of one attempt. */
  jobTimeoutMs?: number;
  /** Finished jobs kept for operators: at most this many seconds / records. */
  keepCompleted?: { age: number; count: number };
  keepFailed?: { age: number; count: number };
  /** How long a call waits for Redis to accept its job before failing UNAVAILABLE (default 5 s): seconds, not the caller's deadline. */
  enqueueTimeoutMs?: number;
  /** Run no worker in this process (an API-only client of the queue). */
  noWorker?: boolean;
  onJobDone?: (op: string, outcome: 'ok' | 'error' | 'failed', seconds: number) => void;
  /** Measures how much of a job's run was spent waiting on the cloud (see @plinth/cloud measureExternal). */
  measure?: <T>(fn: () => Promise<T>) => Promise<[T, number]>;
  /** A call's own overhead: its time from enqueue to result minus the job's time waiting on the cloud. */
  onOverhead?: (op: string, seconds: number) => void;
}

/** Jobs one BullMQ worker runs at most; more concurrency means more workers (up to MAX_WORKERS). */
const JOBS_PER_WORKER = 50;
const MAX_WORKERS = 4;

/** Errors worth another attempt: the cloud or Redis was unavailable, or something unexpected happened. */
const RETRYABLE: ReadonlySet<ErrorKind> = new Set(['Unavailable', 'Aborted', 'Internal', 'DeadlineExceeded']);

function redisFor(conn: RedisConnection): Redis {
  return connectRedis(conn, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/**
 * The durable operation queue. Each mutating CSI call becomes a BullMQ job
 * deduplicated by its natural key (`create:<name>`, `publish:<vol>:<node>`…):
 * a retried call joins the job already in flight instead of starting another.
 * Jobs survive controller crashes (BullMQ's stalled-job recovery hands them to
 * a live worker) and run under Redis leases per resource.
 */
export class Operations {
  readonly queue: Queue;
  private readonly events: QueueEvents;
  private workers: Worker[] = [];
  private readonly handlers = new Map<string, { op: Operation<unknown, unknown>; run: Handler<unknown, unknown> }>();
  private readonly redis: Redis;
  private readonly leases: Leases;
  private readonly shutdown = new AbortController();
  /** The calls waiting on a job's result, to fail at once when Redis or EC2 goes away (see abandonWaits). */
  private readonly waits = new Set<(err: Error) => void>();
  private readonly opts: Required<Omit<OperationsOptions, 'onJobDone' | 'measure' | 'onOverhead'>> &
    Pick<OperationsOptions, 'onJobDone' | 'measure' | 'onOverhead'>;

  constructor(opts: OperationsOptions) {
    this.opts = {
      queueName: DEFAULT_QUEUE_NAME,
      prefix: DEFAULT_PREFIX,
      concurrency: 200,
      lockDurationMs: 15_000,
      attempts: 5,
      jobTimeoutMs: 10 * 60_000,
      keepCompleted: { age: 3600, count: 2000 },
      keepFailed: { age: 7 * 24 * 3600, count: 5000 },
      noWorker: false,
      enqueueTimeoutMs: 5000,
      ...opts,
    };
    const connection = (): ConnectionOptions => redisFor(this.opts.redisUrl);
    this.queue = new Queue(this.opts.queueName, { connection: connection(), prefix: this.opts.prefix });
    const eventsConnection = redisFor(this.opts.redisUrl);
    this.events = new QueueEvents(this.opts.queueName, { connection: eventsConnection, prefix: this.opts.prefix });
    this.redis = redisFor(this.opts.redisUrl);
    this.leases = new Leases(this.redis, this.opts.lockDurationMs);
    this.queue.on('error', (err) => this.opts.log.warn({ err }, 'queue connection error'));
    this.events.on('error', (err) => this.opts.log.warn({ err }, 'queue events connection error'));
    // The results of jobs arrive on this connection: once it drops, no waiting call would hear its job finish.
    eventsConnection.on('close', () => {
      const told = this.abandonWaits(
        unavailable('Redis is unreachable: the connection the operation queue reports results on was lost; the operation continues, retry to wait for it'),
      );
      if (told > 0) this.opts.log.warn({ calls: told }, 'lost the queue events connection; told the waiting calls to retry');
    });
  }

  /** Runs `op`'s jobs in this process with `run`. */
  handle<D, R>(op: Operation<D, R>, run: Handler<D, R>): void {
    this.handlers.set(op.name, { op, run } as unknown as { op: Operation<unknown, unknown>; run: Handler<unknown, unknown> });
  }

  /** A handler for every operation of a set: the compiler checks that none is missing and each fits its operation. */
  handleAll<T extends Record<string, AnyOperation>>(ops: T, handlers: Handlers<T>): void {
    for (const name of Object.keys(ops) as (keyof T & string)[]) this.handle(ops[name]!, handlers[name] as Handler<unknown, unknown>);
  }

  async start(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    if (this.opts.noWorker) return;
    // BullMQ's worker moves waiting jobs to active one at a time and starts none until it has fetched all it may
    // run: a burst of 50 jobs would wait for 50 round trips to Redis before the first began. Several workers
    // sharing the concurrency fetch side by side, so the first of a burst starts after a few.
    const count = Math.min(MAX_WORKERS, Math.max(1, Math.ceil(this.opts.concurrency / JOBS_PER_WORKER)));
    for (let i = 0; i < count; i++) {
      const worker = new Worker(this.opts.queueName, (job: Job<JobData>, token?: string) => this.process(job, token), {
        connection: redisFor(this.opts.redisUrl),
        prefix: this.opts.prefix,
        concurrency: Math.ceil(this.opts.concurrency / count),
        lockDuration: this.opts.lockDurationMs,
        stalledInterval: Math.max(1000, Math.floor(this.opts.lockDurationMs / 2)),
        maxStalledCount: 10,
      });
      worker.on('error', (err) => this.opts.log.warn({ err }, 'worker error'));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /**
   * Runs `op` on `data` through the queue and waits for its result until
   * `deadline` (ms since epoch). A call with the same key while a job is in
   * flight joins that job, and shares its result only when its own request is
   * compatible with the job's (`op.conflicts`); otherwise it is ALREADY_EXISTS
   * naming the fields that differ. With `delayMs`, a new job waits that long
   * before it runs, so calls arriving meanwhile join it.
   */
  async run<D, R>(op: Operation<D, R>, data: D, deadline: number, opts: { delayMs?: number } = {}): Promise<R> {
    const key = op.key(data);
    const name = op.name;
    const started = performance.now();
    const job = await this.add(op, data, deadline, opts);
    const budget = Number.isFinite(deadline) ? deadline - Date.now() - 250 : this.opts.jobTimeoutMs;
    if (budget <= 0) throw deadlineExceeded(`no time left to wait for ${name} ${key} (job ${job.id}); it continues, retry to wait for it`);
    let outcome: Outcome<R>;
    let abandon: ((err: Error) => void) | undefined;
    try {
      const abandoned = new Promise<never>((_, reject) => this.waits.add((abandon = reject)));
      outcome = (await Promise.race([job.waitUntilFinished(this.events, budget), abandoned])) as Outcome<R>;
    } catch (err) {
      if (isPlinthError(err)) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      if (msg.startsWith('Job wait')) {
        throw deadlineExceeded(`${name} ${key} is still in progress (job ${job.id}); retry to wait for it`);
      }
      throw decodeFailure(msg, name, key, job.id);
    } finally {
      if (abandon) this.waits.delete(abandon);
    }
    if (outcome.externalMs !== undefined) this.opts.onOverhead?.(name, Math.max(0, performance.now() - started - outcome.externalMs) / 1000);
    if (outcome.ok) return outcome.value;
    throw fromSerialized(outcome.error);
  }

  /**
   * Queues `op` on `data` without waiting for its result (work that outlives the call that starts it, e.g. a
   * snapshot copy): joins the job in flight for the same key, if any, on the same terms as `run`. Answers the job id.
   */
  async submit<D, R>(op: Operation<D, R>, data: D): Promise<string> {
    const job = await this.add(op, data, Infinity, {});
    return job.id ?? '';
  }

  /** Adds the job for `op`'s key, or joins the one in flight (ALREADY_EXISTS when the requests differ). */
  private async add<D, R>(op: Operation<D, R>, data: D, deadline: number, opts: { delayMs?: number }): Promise<Job<JobData>> {
    const key = op.key(data);
    const name = op.name;
    const ownId = randomUUID();
    const enqueue = this.queue.add(name, { key, data } satisfies JobData, {
      jobId: ownId,
      deduplication: { id: `${name}:${key}` },
      ...(opts.delayMs ? { delay: opts.delayMs } : {}),
      attempts: this.opts.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: this.opts.keepCompleted,
      removeOnFail: this.opts.keepFailed,
    });
    // During a Redis outage ioredis queues the command offline: fail in seconds, naming Redis, not at the caller's deadline.
    const enqueueBudget = Number.isFinite(deadline) ? Math.max(0, deadline - Date.now() - 250) : this.opts.enqueueTimeoutMs;
    const enqueueMs = Math.min(enqueueBudget, this.opts.enqueueTimeoutMs);
    const job = await withTimeout(enqueue, enqueueMs, () =>
      unavailable(`Redis is unavailable: the operation queue did not accept ${name} ${key} within ${Math.round(enqueueMs / 100) / 10} s; retry`),
    ).catch((err: unknown) => {
      throw isPlinthError(err) ? err : unavailable(`Redis is unavailable: the operation queue refused ${name} ${key}; retry`, { cause: err });
    });
    // Deduplicated: BullMQ answered with the in-flight job's id instead of ours.
    if (job.id !== ownId) await this.checkJoin(op, data, job.id);
    return job;
  }

  /** A call that joined job `jobId` shares its result only if its request is compatible with the job's. */
  private async checkJoin<D, R>(op: Operation<D, R>, mine: D, jobId: string | undefined): Promise<void> {
    const joined = jobId ? await Job.fromId<JobData>(this.queue, jobId) : undefined;
    // Gone already: it finished and was trimmed; waiting on it reports that.
    if (!joined) return;
    const theirs = op.data.safeParse(joined.data.data);
    const differences = theirs.success ? op.conflicts(mine, theirs.data) : ['the request in progress could not be read'];
    if (differences.length > 0) {
      throw alreadyExists(`${op.describe(mine)} is already being handled for a different request (job ${jobId}): ${differences.join('; ')}`);
    }
  }

  private async process(job: Job<JobData>, token?: string): Promise<Outcome<unknown>> {
    const def = this.handlers.get(job.name);
    if (!def) return { ok: false, error: { kind: 'Internal', message: `unknown operation ${job.name}` } };
    const parsed = def.op.data.safeParse(job.data.data);
    if (!parsed.success)
      return {
        ok: false,
        error: { kind: 'Internal', message: `job ${job.id ?? '?'} of ${job.name} holds data that does not fit the operation: ${parsed.error.message}` },
      };
    const data = parsed.data;
    const started = performance.now();
    const budget = AbortSignal.timeout(this.opts.jobTimeoutMs);
    const signal = AbortSignal.any([budget, this.shutdown.signal]);
    const log = this.opts.log.child({ op: job.name, key: job.data.key, job: job.id, attempt: job.attemptsMade + 1 });
    const release = await this.leases.acquire(def.op.locks(data), signal);
    const measure = this.opts.measure ?? (async <T>(fn: () => Promise<T>): Promise<[T, number]> => [await fn(), 0]);
    try {
      const [value, externalMs] = await measure(() => def.run(data, { signal, jobId: job.id ?? '', attempt: job.attemptsMade + 1, log }));
      this.opts.onJobDone?.(job.name, 'ok', (performance.now() - started) / 1000);
      return { ok: true, value, externalMs };
    } catch (err) {
      if (err instanceof Later && token !== undefined) {
        log.debug({ inMs: err.ms, why: err.message }, 'operation continues later');
        await job.moveToDelayed(Date.now() + err.ms, token);
        throw new DelayedError();
      }
      if (isPlinthError(err) && !RETRYABLE.has(err.kind)) {
        this.opts.onJobDone?.(job.name, 'error', (performance.now() - started) / 1000);
        log.info({ kind: err.kind, msg: err.message }, 'operation refused');
        return { ok: false, error: err.toJSON() };
      }
      this.opts.onJobDone?.(job.name, 'failed', (performance.now() - started) / 1000);
      log.warn({ err }, 'operation failed; BullMQ will retry while attempts remain');
      // The failure reason is stored in Redis and read back by the waiter.
      const ser: SerializedError = isPlinthError(err) ? err.toJSON() : { kind: 'Internal', message: `${job.name} failed unexpectedly` };
      throw new Error(JSON.stringify(ser), { cause: err });
    } finally {
      await release();
    }
  }

  /**
   * Fails every call now waiting on a job with `err` (UNAVAILABLE naming what went away); the jobs themselves
   * go on, and a retried call joins its job. During an outage the callers hear at once instead of at their
   * deadline. Returns how many calls were told.
   */
  abandonWaits(err: PlinthError): number {
    const told = this.waits.size;
    for (const reject of this.waits) reject(err);
    this.waits.clear();
    return told;
  }

  /** Counts of jobs by state (for Probe, metrics and operators). */
  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('active', 'waiting', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children');
  }

  /** Resolves when Redis answers within `timeoutMs`. */
  async ping(timeoutMs = 2000): Promise<void> {
    await withTimeout(this.redis.ping(), timeoutMs, () => unavailable('Redis did not answer PING in time'));
  }

  /** Stops taking jobs, lets running ones finish for up to graceMs, then leaves the rest to BullMQ's stalled-job recovery. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.workers.length > 0) {
      const closing = Promise.all(this.workers.map((w) => w.close()));
      const drained = await Promise.race([closing.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
      if (!drained) {
        // Running jobs stay active in Redis; BullMQ hands them to a live worker once their lock lapses.
        this.shutdown.abort(new Error('shutting down'));
        await Promise.all(this.workers.map((w) => w.close(true)));
      }
    }
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
  }
}

function decodeFailure(reason: string, op: string, key: string, jobId: string | undefined) {
  try {
    const parsed = JSON.parse(reason) as unknown;
    const err = fromSerialized(parsed);
    if (err.message !== 'internal error') return err;
  } catch {
    // not one of ours
  }
  return internal(`${op} ${key} failed (job ${jobId ?? '?'}); see the controller log`);
}

/** `p`, or the error `onTimeout` makes if `p` has not settled within `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => PlinthError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
