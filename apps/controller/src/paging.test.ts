import { describe, expect, it } from 'vitest';
import { pageCursor, pageOf } from './paging.js';

const ids = ['vol-e', 'vol-a', 'vol-c', 'vol-b', 'vol-d'];
const key = (s: string) => s;

function listAll(items: string[], maxEntries: number): string[][] {
  const pages: string[][] = [];
  let token = '';
  do {
    const page = pageOf(items, key, pageCursor({ maxEntries, startingToken: token }, 'volumes'), 'volumes');
    pages.push(page.entries);
    token = page.nextToken;
  } while (token);
  return pages;
}

describe('paging', () => {
  it('chains pages in key order, each at most max_entries long, with an empty token on the last', () => {
    expect(listAll(ids, 2)).toEqual([['vol-a', 'vol-b'], ['vol-c', 'vol-d'], ['vol-e']]);
    expect(listAll(ids, 5)).toEqual([['vol-a', 'vol-b', 'vol-c', 'vol-d', 'vol-e']]);
    expect(listAll(ids, 0)).toEqual([['vol-a', 'vol-b', 'vol-c', 'vol-d', 'vol-e']]);
    expect(listAll([], 2)).toEqual([[]]);
  });

  it('neither repeats nor skips entries when others come and go between pages', () => {
    const first = pageOf(ids, key, pageCursor({ maxEntries: 2, startingToken: '' }, 'volumes'), 'volumes');
    expect(first.entries).toEqual(['vol-a', 'vol-b']);
    // vol-b (the token's own entry) and vol-a are deleted, vol-0 and vol-bb appear.
    const changed = ['vol-0', 'vol-bb', 'vol-c', 'vol-d', 'vol-e'];
    const second = pageOf(changed, key, pageCursor({ maxEntries: 2, startingToken: first.nextToken }, 'volumes'), 'volumes');
    expect(second.entries).toEqual(['vol-bb', 'vol-c']);
  });

  it('answers ABORTED for a token it did not issue, or issued for another kind of list', () => {
    const token = pageOf(ids, key, pageCursor({ maxEntries: 1, startingToken: '' }, 'volumes'), 'volumes').nextToken;
    const kindOf = (startingToken: string, kind = 'volumes') => {
      try {
        pageCursor({ maxEntries: 0, startingToken }, kind);
        return 'ok';
      } catch (e) {
        return (e as { kind: string }).kind;
      }
    };
    expect(kindOf(token)).toBe('ok');
    expect(kindOf('invalid-token')).toBe('Aborted');
    expect(kindOf(`${token}!`)).toBe('Aborted');
    expect(kindOf(Buffer.from('{"kind":"volumes"}').toString('base64url'))).toBe('Aborted');
    expect(kindOf(token, 'snapshots')).toBe('Aborted');
  });

  it('rejects a negative max_entries as INVALID_ARGUMENT', () => {
    expect(() => pageCursor({ maxEntries: -1, startingToken: '' }, 'volumes')).toThrow(/max_entries must not be negative/);
  });
});
