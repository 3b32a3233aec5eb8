import { createHash } from 'node:crypto';
import type { CallListFilter, CallListPosition, CallListSort } from '#libs/database';
import { InvalidCursorError } from '../admin-errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CursorBody {
  /** sort the cursor was issued for */
  s: CallListSort;
  /** startedAt of the last row, epoch ms (the column has millisecond precision) */
  t: number;
  id: string;
  /** rank of the last row (relevance order) */
  r?: number;
  /** fingerprint of the filters: a cursor only continues the query it came from */
  f: string;
}

/** Fingerprint of a listing's filters and order. */
export function queryFingerprint(filter: CallListFilter, sort: CallListSort): string {
  const canonical = JSON.stringify([sort, filter.status, filter.direction, filter.mode, filter.fromNumber, filter.toNumber,
    filter.since?.toISOString(), filter.until?.toISOString(), filter.disposition, filter.q]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

/** An opaque keyset cursor: base64url JSON. Not a secret; tampering just selects another position. */
export function encodeCursor(position: CallListPosition, sort: CallListSort, fingerprint: string): string {
  const body: CursorBody = { s: sort, t: position.startedAt.getTime(), id: position.id, f: fingerprint };
  if (sort === 'relevance') body.r = position.rank ?? 0;
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeCursor(cursor: string, sort: CallListSort, fingerprint: string): CallListPosition {
  let body: Partial<CursorBody>;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorBody>;
  } catch {
    throw new InvalidCursorError('cursor is malformed');
  }
  const valid =
    body !== null && typeof body === 'object' &&
    Number.isSafeInteger(body.t) && typeof body.id === 'string' && UUID.test(body.id) &&
    (sort === 'recent' || (typeof body.r === 'number' && Number.isFinite(body.r)));
  if (!valid) throw new InvalidCursorError('cursor is malformed');
  if (body.s !== sort || body.f !== fingerprint) throw new InvalidCursorError('cursor belongs to a different query (filters or sort changed)');
  return { startedAt: new Date(body.t!), id: body.id!, rank: body.r };
}
