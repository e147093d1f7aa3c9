import type { Logger } from '@plinth/logger';
import type { z } from 'zod';

export interface OpContext {
  /** Aborted when the job's time budget is spent or the process shuts down. */
  signal: AbortSignal;
  jobId: string;
  attempt: number;
  log: Logger;
}

/**
 * One kind of durable operation, defined once: its job name, the natural key
 * that deduplicates it, the schema of its data, the leases it holds and how a
 * caller's request is told apart from the in-flight one it would join. The
 * handler is bound where the dependencies exist (`Operations.handle`); the
 * types tie request → job → handler → result together.
 */
export interface Operation<D, R> {
  /** Job name in the queue. */
  readonly name: string;
  /** Checks the job's data as it comes back out of Redis. */
  readonly data: z.ZodType<D>;
  /** Natural key: a call with the same key while a job is in flight joins that job. */
  key(data: D): string;
  /** Leases held while the job runs (e.g. `volume:vol-123`), serialising work on one resource across replicas. */
  locks(data: D): string[];
  /**
   * Why `mine` may not share the result of the in-flight `theirs` (same key):
   * one phrase per differing field, e.g. `size 8 GiB, not 4 GiB`. Empty when it may.
   */
  conflicts(mine: D, theirs: D): string[];
  /** The resource the key names, for messages (e.g. `volume "pvc-1"`). */
  describe(data: D): string;
  /** Phantom: the result type, carried for the compiler only. */
  readonly result?: R;
}

export type Handler<D, R> = (data: D, ctx: OpContext) => Promise<R>;

/**
 * Thrown by a handler that must wait for the cloud longer than it should hold a worker and its leases (a
 * cross-region snapshot copy takes minutes to hours): the job goes back to the queue, delayed by `ms`, and runs
 * its handler again then, with the same data and key (calls with the key still join it). Not an attempt: it
 * counts against no retry budget. The job survives a restart as any other.
 */
export class Later extends Error {
  constructor(
    readonly ms: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'Later';
  }
}

/** Runs the job again in `ms` (see Later). */
export function later(ms: number, reason: string): Later {
  return new Later(Math.max(0, Math.round(ms)), reason);
}

/** Any operation, whatever its data and result (for sets of operations). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any>;

/** A handler for each operation of a set, checked by the compiler. */
export type Handlers<T extends Record<string, AnyOperation>> = {
  [K in keyof T]: T[K] extends Operation<infer D, infer R> ? Handler<D, R> : never;
};

/** Defines an operation; `R` is the result its handler returns and its callers get. */
export function defineOperation<D, R>(op: Omit<Operation<D, R>, 'result' | 'conflicts'> & Partial<Pick<Operation<D, R>, 'conflicts'>>): Operation<D, R> {
  return { conflicts: () => [], ...op };
}

/** The phrases of `conflicts` for plain fields: each listed field whose values differ, as `<label> <mine>, not <theirs>`. */
export function differingFields<D>(mine: D, theirs: D, labels: Partial<Record<keyof D, string>>): string[] {
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  return (Object.entries(labels) as [keyof D, string][])
    .filter(([key]) => show(mine[key]) !== show(theirs[key]))
    .map(([key, label]) => `${label} ${show(mine[key])}, not ${show(theirs[key])}`);
}
