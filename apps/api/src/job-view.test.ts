import type { JobRecord } from '@plinth/queue';
import { describe, expect, it } from 'vitest';
import { jobView } from './job-view.js';

const record: JobRecord = {
  id: '42',
  operation: 'create',
  key: 'pvc-1',
  state: 'completed',
  outcome: 'refused',
  attemptsMade: 1,
  attempts: 5,
  error: { kind: 'AlreadyExists', message: 'pvc-1 exists with another size' },
  result: null,
  data: { name: 'pvc-1', secrets: { password: 'hunter2' } },
  createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  startedAt: Date.UTC(2026, 0, 2, 3, 4, 6),
  finishedAt: Date.UTC(2026, 0, 2, 3, 4, 8, 500),
};

describe('jobView', () => {
  it('shows times as ISO 8601 with the run time, and the error as kind and message', () => {
    expect(jobView(record)).toMatchObject({
      id: '42',
      operation: 'create',
      key: 'pvc-1',
      state: 'completed',
      outcome: 'refused',
      attemptsMade: 1,
      attempts: 5,
      error: { kind: 'AlreadyExists', message: 'pvc-1 exists with another size' },
      createdAt: '2026-01-02T03:04:05.000Z',
      startedAt: '2026-01-02T03:04:06.000Z',
      finishedAt: '2026-01-02T03:04:08.500Z',
      durationMs: 2500,
    });
  });

  it('strips secrets from the input', () => {
    expect(JSON.stringify(jobView(record).data)).not.toContain('hunter2');
  });

  it('has null times and duration for a job not yet started', () => {
    const v = jobView({ ...record, state: 'waiting', outcome: null, error: null, startedAt: null, finishedAt: null });
    expect(v).toMatchObject({ startedAt: null, finishedAt: null, durationMs: null, error: null, outcome: null });
  });
});
