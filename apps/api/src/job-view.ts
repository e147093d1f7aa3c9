import { stripSecrets } from '@plinth/logger';
import type { Job, JobType, Queue } from 'bullmq';

export const IN_FLIGHT: JobType[] = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'];
export const JOB_STATES = [...IN_FLIGHT, 'failed', 'completed'] as const;

export interface JobView {
  id: string;
  operation: string;
  key: string;
  state: string;
  /** ok: done; refused: ended with a domain error (not retried); failed: BullMQ failure (transient, retried while attempts remain). */
  outcome: 'ok' | 'refused' | 'failed' | null;
  attemptsMade: number;
  attempts: number;
  error: { kind: string; message: string } | null;
  data: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/** The queue's failure reason: our JSON {kind,message}, else BullMQ's own text. */
export function parseFailure(reason: string | undefined): { kind: string; message: string } | null {
  if (!reason) return null;
  try {
    const v = JSON.parse(reason) as unknown;
    if (typeof v === 'object' && v !== null) {
      const { kind, message } = v as Record<string, unknown>;
      if (typeof kind === 'string' && typeof message === 'string') return { kind, message };
    }
  } catch {
    // not JSON
  }
  return { kind: 'Internal', message: reason };
}

export function jobView(job: Job, state: string): JobView {
  const data = (job.data ?? {}) as { key?: unknown; data?: unknown };
  const rv = job.returnvalue as { ok?: boolean; error?: { kind?: string; message?: string } } | null | undefined;
  let outcome: JobView['outcome'] = null;
  let error: JobView['error'] = null;
  if (state === 'failed') {
    outcome = 'failed';
    error = parseFailure(job.failedReason);
  } else if (state === 'completed' && rv) {
    outcome = rv.ok ? 'ok' : 'refused';
    if (!rv.ok && rv.error) error = { kind: String(rv.error.kind ?? 'Internal'), message: String(rv.error.message ?? '') };
  } else if (job.failedReason) {
    // waiting for another attempt after a transient failure
    error = parseFailure(job.failedReason);
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
    data: stripSecrets(data.data ?? null),
    createdAt: iso(job.timestamp) ?? new Date(0).toISOString(),
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    durationMs: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : null,
  };
}

/** Jobs in `states`, each with its state, newest first, at most `limit` per state. */
export async function jobsIn(queue: Queue, states: readonly string[], limit: number): Promise<{ job: Job; state: string }[]> {
  const lists = await Promise.all(states.map(async (state) => (await queue.getJobs([state as JobType], 0, limit - 1, false)).filter(Boolean).map((job) => ({ job, state }))));
  return lists.flat().sort((a, b) => b.job.timestamp - a.job.timestamp);
}

/** Queue depth by state and operation (completed and failed included, as kept in Redis). */
export async function depth(queue: Queue, scanLimit = 10_000): Promise<{ state: string; operation: string; count: number }[]> {
  const rows = new Map<string, number>();
  for (const { job, state } of await jobsIn(queue, JOB_STATES, scanLimit)) {
    const k = `${state}\u0000${job.name}`;
    rows.set(k, (rows.get(k) ?? 0) + 1);
  }
  return [...rows].map(([k, count]) => {
    const [state = '', operation = ''] = k.split('\u0000');
    return { state, operation, count };
  });
}
