import { stripSecrets } from '@plinth/logger';
import type { JobRecord } from '@plinth/queue';

export interface JobView {
  id: string;
  operation: string;
  key: string;
  state: string;
  /** ok: done; refused: ended with a domain error (not retried); failed: a transient failure on its last attempt. */
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

const iso = (ms: number | null): string | null => (ms ? new Date(ms).toISOString() : null);

/** A queue job as the API shows it: times as ISO 8601, secrets stripped from its input. */
export function jobView(job: JobRecord): JobView {
  return {
    id: job.id,
    operation: job.operation,
    key: job.key,
    state: job.state,
    outcome: job.outcome,
    attemptsMade: job.attemptsMade,
    attempts: job.attempts,
    error: job.error && { kind: job.error.kind, message: job.error.message },
    data: stripSecrets(job.data ?? null),
    createdAt: iso(job.createdAt) ?? new Date(0).toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    durationMs: job.finishedAt && job.startedAt ? job.finishedAt - job.startedAt : null,
  };
}
