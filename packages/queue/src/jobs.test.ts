import { describe, expect, it } from 'vitest';
import { failureOf, toRecord, type StoredJob } from './jobs.js';

const job = (over: Partial<StoredJob> = {}): StoredJob => ({
  id: '7',
  name: 'publish',
  data: { key: 'vol-0123456789abcdef0:i-0123456789abcdef0', data: { volumeId: 'vol-0123456789abcdef0', nodeId: 'i-0123456789abcdef0' } },
  returnvalue: null,
  attemptsMade: 0,
  opts: { attempts: 5 },
  timestamp: 1_000,
  ...over,
});

describe('failureOf', () => {
  it("reads Operations' JSON failure reason as a domain error", () => {
    expect(failureOf('{"kind":"Unavailable","message":"EC2 CreateVolume is unavailable"}')).toEqual({
      kind: 'Unavailable',
      message: 'EC2 CreateVolume is unavailable',
    });
  });
  it("keeps the queue's own text, or JSON that is not a domain error, as Internal", () => {
    expect(failureOf('job stalled more than allowable limit')).toEqual({ kind: 'Internal', message: 'job stalled more than allowable limit' });
    expect(failureOf('{"x":1}')).toEqual({ kind: 'Internal', message: '{"x":1}' });
    expect(failureOf('{"kind":"Oops","message":"m"}')).toEqual({ kind: 'Internal', message: '{"kind":"Oops","message":"m"}' });
  });
  it('is null without a reason', () => {
    expect(failureOf(undefined)).toBeNull();
    expect(failureOf('')).toBeNull();
  });
});

describe('toRecord', () => {
  it('maps a waiting job: operation, key, input, attempts, creation time; no outcome yet', () => {
    expect(toRecord(job(), 'waiting')).toEqual({
      id: '7',
      operation: 'publish',
      key: 'vol-0123456789abcdef0:i-0123456789abcdef0',
      state: 'waiting',
      outcome: null,
      attemptsMade: 0,
      attempts: 5,
      error: null,
      result: null,
      data: { volumeId: 'vol-0123456789abcdef0', nodeId: 'i-0123456789abcdef0' },
      createdAt: 1_000,
      startedAt: null,
      finishedAt: null,
    });
  });

  it('gives a completed job its result', () => {
    const r = toRecord(
      job({ returnvalue: { ok: true, value: { devicePath: '/dev/xvdba' }, externalMs: 12 }, processedOn: 1_100, finishedOn: 1_900, attemptsMade: 1 }),
      'completed',
    );
    expect(r).toMatchObject({ outcome: 'ok', result: { devicePath: '/dev/xvdba' }, error: null, startedAt: 1_100, finishedAt: 1_900, attemptsMade: 1 });
  });

  it('shows a domain refusal as a completed job with its error', () => {
    const r = toRecord(job({ returnvalue: { ok: false, error: { kind: 'FailedPrecondition', message: 'vol is attached elsewhere' } } }), 'completed');
    expect(r).toMatchObject({ outcome: 'refused', error: { kind: 'FailedPrecondition', message: 'vol is attached elsewhere' }, result: null });
    expect(toRecord(job({ returnvalue: { ok: false, error: 'garbled' } }), 'completed').error).toEqual({
      kind: 'Internal',
      message: 'the job ended with an unreadable error',
    });
  });

  it('shows a failed job with its last error', () => {
    const r = toRecord(job({ failedReason: '{"kind":"DeadlineExceeded","message":"attach took too long"}', attemptsMade: 5 }), 'failed');
    expect(r).toMatchObject({ outcome: 'failed', attemptsMade: 5, error: { kind: 'DeadlineExceeded', message: 'attach took too long' } });
    expect(toRecord(job(), 'failed').error).toEqual({ kind: 'Internal', message: 'the job failed without a reason' });
  });

  it('keeps the last transient error of a job waiting for another attempt', () => {
    const r = toRecord(job({ failedReason: '{"kind":"Unavailable","message":"EC2 hiccup"}', attemptsMade: 1 }), 'delayed');
    expect(r).toMatchObject({ state: 'delayed', outcome: null, error: { kind: 'Unavailable', message: 'EC2 hiccup' } });
  });

  it('copes with data that is not what Operations stores', () => {
    expect(toRecord(job({ data: null, id: undefined, opts: {} }), 'waiting')).toMatchObject({ id: '', key: '', data: null, attempts: 1 });
  });
});
