import { describe, expect, it } from '@jest/globals';
import { InvalidCursorError } from '../admin-errors.js';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.js';

const position = { startedAt: new Date('2026-11-26T10:00:00.123Z'), id: '0b7c7f8e-1f6a-4c51-9d0e-5d7f3c2a1b00', rank: 0.0607927 };

describe('cursor', () => {
  it('round-trips a position for the query it was issued for', () => {
    const f = queryFingerprint({ q: 'refund', status: 'completed' }, 'relevance');
    const cursor = encodeCursor(position, 'relevance', f);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'relevance', f)).toEqual(position);
  });

  it('refuses a cursor of another query or order', () => {
    const f = queryFingerprint({ status: 'completed' }, 'recent');
    const cursor = encodeCursor(position, 'recent', f);
    expect(() => decodeCursor(cursor, 'recent', queryFingerprint({ status: 'busy' }, 'recent'))).toThrow(/different query/);
    expect(() => decodeCursor(cursor, 'relevance', f)).toThrow(InvalidCursorError);
  });

  it.each(['', '!!!', 'bnVsbA', Buffer.from('{"s":"recent","t":1,"id":"x","f":"a"}').toString('base64url'), Buffer.from('[1,2]').toString('base64url')])(
    'refuses the malformed cursor %p',
    (cursor) => {
      expect(() => decodeCursor(cursor, 'recent', 'a')).toThrow(InvalidCursorError);
    },
  );
});
