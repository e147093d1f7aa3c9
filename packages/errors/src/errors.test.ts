import { describe, expect, it } from 'vitest';
import { fromSerialized, invalidArgument, notFound, toPlinthError } from './index.js';

describe('domain errors', () => {
  it('round-trips through JSON without a stack', () => {
    const err = notFound('volume vol-123 not found');
    const json = JSON.parse(JSON.stringify(err)) as unknown;
    expect(json).toEqual({ kind: 'NotFound', message: 'volume vol-123 not found' });
    const back = fromSerialized(json);
    expect(back.kind).toBe('NotFound');
    expect(back.message).toBe('volume vol-123 not found');
  });

  it('turns unknown shapes into Internal', () => {
    expect(fromSerialized({ kind: 'Bogus', message: 'x' }).kind).toBe('Internal');
    expect(fromSerialized('oops').kind).toBe('Internal');
  });

  it('hides foreign error messages behind a generic one', () => {
    const wrapped = toPlinthError(new Error('secret internals at /srv/x.ts:12'));
    expect(wrapped.kind).toBe('Internal');
    expect(wrapped.message).toBe('internal error');
    const mine = invalidArgument('name is required');
    expect(toPlinthError(mine)).toBe(mine);
  });
});
