import { describe, expect, it } from '@jest/globals';
import type { AgentDecision } from '#libs/agents';
import type { CallSession } from '#libs/sessions';
import type { CallWrite } from '../../twilio/call-recorder.js';
import type { StreamSocket } from '../stream-socket.js';
import { Playback, type ModelResponse } from './playback.js';
import { TurnLedger } from './turn-ledger.js';

/** 100 ms of μ-law (800 bytes) as base64. */
const DELTA = Buffer.alloc(800, 0xff).toString('base64');

function setup() {
  const sent: string[] = [];
  const socket = {
    sendPayload: () => sent.push('media'),
    sendMark: (name: string) => sent.push(`mark:${name}`),
    sendClear: () => sent.push('clear'),
  } as unknown as StreamSocket;
  const turns: { text: string; interrupted?: boolean; data?: Record<string, unknown> }[] = [];
  const skipped: string[] = [];
  const ledger = new TurnLedger((ready, skips) => {
    const write = { turn: (t: (typeof turns)[number]) => turns.push(t) } as unknown as CallWrite;
    for (const fill of ready) fill(write);
    for (const s of skips) skipped.push(s.key);
  }, 1000);
  const session = { history: [], agent: {} } as unknown as CallSession;
  const acted: AgentDecision[] = [];
  const playback = new Playback(socket, ledger, session, (action) => acted.push(action));
  const response: ModelResponse = { id: 'resp_1', purpose: 'reply', cancelled: false, functionCalls: 0, audioItems: 0 };
  return { playback, sent, turns, skipped, acted, response };
}

describe('Playback', () => {
  it('sends each delta with a mark per 100 ms of audio, and stores the answer once its end mark is echoed', () => {
    const { playback, sent, turns, acted, response } = setup();
    const action = { action: 'hangup', say: 'Goodbye.' } as AgentDecision;
    const item = playback.add('item_1', response, action, 'hangup');
    item.transcript = 'Goodbye.';
    playback.send(item, DELTA, 800);
    playback.send(item, DELTA, 800);
    playback.audioDone(item);
    expect(sent).toEqual(['media', 'mark:r0.1.100', 'media', 'mark:r0.1.200', 'mark:r0.1.end']);
    playback.onMark('r0.1.100');
    expect(turns).toEqual([]);
    playback.onMark('r0.1.end');
    expect(turns).toMatchObject([{ text: 'Goodbye.', data: { heardMs: 200, sentMs: 200 } }]);
    expect(turns[0].interrupted).toBeUndefined();
    expect(acted).toEqual([action]); // the announced action runs once it has played
    playback.onMark('r0.1.end');
    expect(turns).toHaveLength(1);
  });

  it('a barge-in clears first, truncates at the last echoed mark, stores what was heard, and ignores stale marks', () => {
    const { playback, sent, turns, acted, response } = setup();
    const item = playback.add('item_1', response, { action: 'transfer' } as AgentDecision, undefined);
    item.transcript = 'one two three four five six seven eight';
    for (let i = 0; i < 4; i++) playback.send(item, DELTA, 800);
    playback.audioDone(item);
    playback.onMark('r0.1.100');
    playback.onMark('r0.1.200');
    expect(playback.speaking).toBe(true);
    playback.clear();
    const truncated: [string, number][] = [];
    expect(playback.cut((id, ms) => truncated.push([id, ms]))).toEqual([200]);
    expect(sent.at(-1)).toBe('clear');
    expect(truncated).toEqual([['item_1', 200]]);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ interrupted: true, data: { heardMs: 200, sentMs: 400, planned: item.transcript } });
    expect(item.transcript.startsWith(turns[0].text)).toBe(true);
    expect(turns[0].text.length).toBeLessThan(item.transcript.length);
    expect(acted).toEqual([]); // an interrupted announcement is not carried out
    expect(playback.speaking).toBe(false);
    // Marks of the cleared generation come back (Twilio echoes them on clear): ignored.
    playback.onMark('r0.1.end');
    expect(turns).toHaveLength(1);
  });

  it('a response that ends before an item sent audio forgets the item; one cut mid-audio plays out what was sent', () => {
    const { playback, turns, skipped, response } = setup();
    const silent = playback.add('item_1', response, undefined, undefined);
    const partial = playback.add('item_2', response, undefined, undefined);
    partial.transcript = 'a long answer that was cut';
    playback.send(partial, DELTA, 800);
    playback.responseEnded(response);
    expect(skipped).toEqual(['item_1']);
    expect(playback.get(silent.itemId)).toBeUndefined();
    expect(partial.cut).toBe(true);
    playback.onMark('r0.2.end');
    expect(turns).toHaveLength(1);
    expect(turns[0].interrupted).toBe(true);
  });
});
