import type { VolumeStatusInfo } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { awaitInitialized } from './initialization.js';

const status = (state: string): VolumeStatusInfo => ({
  volumeId: 'vol-1',
  status: 'ok',
  details: [
    { name: 'io-enabled', status: 'passed' },
    { name: 'initialization-state', status: state },
  ],
  events: [],
  actions: [],
});

describe('blockAttachUntilInitialized', () => {
  const ctx = (deadline = Date.now() + 60_000) => ({ signal: new AbortController().signal, deadline });

  it('answers once DescribeVolumeStatus stops reporting the volume initializing', async () => {
    const answers = ['initializing', 'initializing', 'completed'];
    let calls = 0;
    await awaitInitialized(() => Promise.resolve(new Map([['vol-1', status(answers[calls++]!)]])), 'vol-1', ctx(), 1);
    expect(calls).toBe(3);
  });

  it('takes an endpoint without status checks as initialized', async () => {
    await expect(awaitInitialized(() => Promise.resolve(undefined), 'vol-1', ctx(), 1)).resolves.toBeUndefined();
  });

  it('gives up at the call deadline with DEADLINE_EXCEEDED (the CO retries)', async () => {
    await expect(awaitInitialized(() => Promise.resolve(new Map([['vol-1', status('initializing')]])), 'vol-1', ctx(Date.now() + 5), 10)).rejects.toMatchObject(
      {
        kind: 'DeadlineExceeded',
        message: expect.stringContaining('blockAttachUntilInitialized') as unknown,
      },
    );
  });
});
