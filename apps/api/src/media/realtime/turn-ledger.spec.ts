import { describe, expect, it } from '@jest/globals';
import type { CallWrite } from '../../twilio/call-recorder.js';
import { TurnLedger } from './turn-ledger.js';

/** A ledger whose flushes are recorded as the texts written and the keys skipped. */
function ledger(waitMs = 1000) {
  const written: string[] = [];
  const skipped: string[] = [];
  const l = new TurnLedger((ready, skips) => {
    const fake = { turn: (t: { text: string }) => written.push(t.text) } as unknown as CallWrite;
    for (const fill of ready) fill(fake);
    for (const s of skips) skipped.push(s.key);
  }, waitMs);
  const fill = (kind: 'caller' | 'agent' | 'tool', key: string, text: string) => l.fill(kind, key, (w) => w.turn({ speaker: kind, text }));
  return { l, written, skipped, fill };
}

describe('TurnLedger', () => {
  it('writes turns in conversation order even when they are filled out of order', () => {
    const { l, written, fill } = ledger();
    l.open('caller', 'c1');
    l.open('agent', 'a1');
    fill('agent', 'a1', 'answer');
    expect(written).toEqual([]); // the caller's transcription is still to come
    fill('caller', 'c1', 'question');
    expect(written).toEqual(['question', 'answer']);
  });

  it('writes each turn exactly once: a second fill and a late fill of a written turn are ignored', () => {
    const { l, written, fill } = ledger();
    expect(fill('caller', 'c1', 'one')).toBe(true);
    expect(fill('caller', 'c1', 'again')).toBe(false);
    l.open('agent', 'a1');
    l.open('agent', 'a1'); // placing twice keeps the first place
    fill('agent', 'a1', 'two');
    expect(fill('agent', 'a1', 'two again')).toBe(false);
    expect(written).toEqual(['one', 'two']);
  });

  it('gives up on an overdue caller transcription only when a later turn is waiting', () => {
    const { l, written, skipped, fill } = ledger(1000);
    l.open('caller', 'c1');
    l.expire(Date.now() + 5000);
    expect(skipped).toEqual([]); // nothing waits behind it
    fill('agent', 'a1', 'answer');
    l.expire(Date.now() + 500);
    expect(written).toEqual([]);
    l.expire(Date.now() + 5000);
    expect(skipped).toEqual(['c1']);
    expect(written).toEqual(['answer']);
    expect(fill('caller', 'c1', 'too late')).toBe(false);
    expect(written).toEqual(['answer']);
  });

  it('skips, and writes what is filled when the call ends', () => {
    const { l, written, skipped, fill } = ledger();
    l.open('caller', 'c1');
    fill('tool', 't1', 'tool');
    l.open('agent', 'a1');
    l.skip('c1', 'transcription failed');
    expect(written).toEqual(['tool']);
    l.finish();
    expect(skipped).toEqual(['c1', 'a1']);
    expect(l.pending).toBe(0);
  });
});
