import { aborted, invalidArgument } from '@plinth/errors';

/** A List* request's paging fields, as CSI spells them. */
export interface PageRequest {
  maxEntries: number;
  startingToken: string;
}

/** Where a page starts and how long it may be (0: no limit). */
export interface PageCursor {
  after: string | undefined;
  limit: number;
}

export interface Page<T> {
  entries: T[];
  /** Empty on the last page. */
  nextToken: string;
}

function encode(kind: string, after: string): string {
  return Buffer.from(JSON.stringify({ kind, after }), 'utf8').toString('base64url');
}

/**
 * Validates max_entries and starting_token before any EC2 call: a negative
 * max_entries is INVALID_ARGUMENT, a token this controller did not issue for
 * `kind` (e.g. "volumes", "snapshots") is ABORTED, as the CSI spec asks.
 */
export function pageCursor(req: PageRequest, kind: string): PageCursor {
  if (!Number.isInteger(req.maxEntries) || req.maxEntries < 0) throw invalidArgument(`max_entries must not be negative, got ${req.maxEntries}`);
  if (!req.startingToken) return { after: undefined, limit: req.maxEntries };
  const bad = () => aborted(`starting_token "${req.startingToken.slice(0, 64)}" is not a ${kind} token from this controller; list again without one`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(req.startingToken, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const t = parsed as { kind?: unknown; after?: unknown } | null;
  if (typeof t !== 'object' || t === null || t.kind !== kind || typeof t.after !== 'string' || !t.after) throw bad();
  // Base64url decoding skips stray characters; only the exact token we issued is accepted.
  if (encode(kind, t.after) !== req.startingToken) throw bad();
  return { after: t.after, limit: req.maxEntries };
}

/**
 * One page of `items`, ordered by `keyOf`. The token names the last key
 * returned, not an offset, so entries added or removed between pages never
 * shift the rest: every entry present throughout a listing is returned
 * exactly once, and a token stays valid when its entry is gone.
 */
export function pageOf<T>(items: readonly T[], keyOf: (t: T) => string, cursor: PageCursor, kind: string): Page<T> {
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const { after } = cursor;
  const rest = after === undefined ? sorted : sorted.filter((t) => keyOf(t) > after);
  if (cursor.limit === 0 || rest.length <= cursor.limit) return { entries: rest, nextToken: '' };
  const entries = rest.slice(0, cursor.limit);
  return { entries, nextToken: encode(kind, keyOf(entries[entries.length - 1]!)) };
}
