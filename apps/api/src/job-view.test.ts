import { describe, expect, it } from 'vitest';
import { parseFailure } from './job-view.js';

describe('parseFailure', () => {
  it("reads the queue's JSON failure reason", () => {
    expect(parseFailure('{"kind":"Unavailable","message":"EC2 CreateVolume is unavailable"}')).toEqual({ kind: 'Unavailable', message: 'EC2 CreateVolume is unavailable' });
  });
  it("keeps BullMQ's own text as an Internal error", () => {
    expect(parseFailure('job stalled more than allowable limit')).toEqual({ kind: 'Internal', message: 'job stalled more than allowable limit' });
    expect(parseFailure('{"x":1}')).toEqual({ kind: 'Internal', message: '{"x":1}' });
  });
  it('is null without a reason', () => {
    expect(parseFailure(undefined)).toBeNull();
    expect(parseFailure('')).toBeNull();
  });
});
