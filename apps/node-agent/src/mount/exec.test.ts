import { describe, expect, it } from 'vitest';
import { run, summarizeStderr } from './exec.js';

describe('run', () => {
  it('keeps the last meaningful stderr lines, trimmed', () => {
    expect(summarizeStderr('\n  mke2fs 1.47\n\nfirst problem\nsecond problem  \n')).toBe('mke2fs 1.47; first problem; second problem');
    expect(summarizeStderr('x'.repeat(500)).length).toBeLessThanOrEqual(301);
  });
  it('turns a failing command into a domain error naming it with a short reason', async () => {
    await expect(run('ls', ['/definitely/not/here'])).rejects.toMatchObject({
      kind: 'Internal',
      message: expect.stringMatching(/^ls \/definitely\/not\/here failed: .*No such file/) as unknown,
    });
    await expect(run('plinth-no-such-binary', [])).rejects.toMatchObject({ message: 'plinth-no-such-binary is not installed on this node' });
    await expect(run('sleep', ['5'], { timeoutMs: 100 })).rejects.toMatchObject({ message: 'sleep 5 timed out after 100 ms' });
    await expect(run('sh', ['-c', 'exit 2'], { okCodes: [2] })).resolves.toMatchObject({ code: 2 });
  });
});
