import { describe, expect, it, jest } from '@jest/globals';
import type { AgentConfig } from '#libs/agents';
import type { AppConfig } from '#libs/config';
import { SpeechAuthError, type SpeechRecognizer, type SpeechSynthesizer, type StreamingRecognitionListener, type StreamingSpeechRecognizer } from '#libs/media';
import type { CallSession } from '#libs/sessions';
import { CallWrite, type CallRecorder } from '../twilio/call-recorder.js';
import type { AgentTurnRunner, TurnListener } from './agent-turn.runner.js';
import type { CallControl } from './call-control.js';
import { StreamCall } from './stream-call.js';
import type { StreamSocket } from './stream-socket.js';

const config = {
  MEDIA_VAD_THRESHOLD_DB: -45, MEDIA_MIN_SPEECH_MS: 200, MEDIA_END_OF_TURN_MS: 600, MEDIA_PACING_LEAD_MS: 200,
  MEDIA_MAX_QUEUED_AUDIO_MS: 60_000, MEDIA_MAX_UTTERANCE_MS: 15_000, SPEECH_CONFIDENCE_THRESHOLD: 0.5, MEDIA_PROVIDER_TIMEOUT_MS: 300,
} as AppConfig;

const agent = { name: 'default', greeting: 'One. Two. Three.', voice: 'x', language: 'en-US', departments: [], faq: [] } as unknown as AgentConfig;

/** TTS whose sentences resolve when the test says so: 100 ms of audio each. */
function manualTts() {
  const pending: (() => void)[] = [];
  const tts: SpeechSynthesizer = {
    name: 'manual',
    synthesize: (_text, _voice, signal) =>
      new Promise((resolve, reject) => {
        const done = () => resolve(Buffer.alloc(800, 0x7e));
        pending.push(done);
        signal.addEventListener('abort', () => {
          pending.splice(pending.indexOf(done), 1); // a killed synthesis never completes
          reject(new DOMException('aborted', 'AbortError'));
        });
      }),
  };
  return { tts, release: async () => (pending.shift()?.(), await new Promise((r) => setImmediate(r))) };
}

/** A streaming recogniser the test drives: it hands over its listener and records what the call did. */
function liveStt() {
  const state = { listener: undefined as undefined | StreamingRecognitionListener, bytes: 0, closed: false, pending: { text: '', confidence: 0 } };
  const recognizer: StreamingSpeechRecognizer = {
    name: 'cloud',
    start: (_context, listener) => {
      state.listener = listener;
      return {
        sendAudio: (frame) => void (state.bytes += frame.length),
        pendingText: () => state.pending,
        resetTurn: () => void (state.pending = { text: '', confidence: 0 }),
        close: () => void (state.closed = true),
      };
    },
  };
  return { recognizer, state };
}

function setup(heard = '', streamingStt?: StreamingSpeechRecognizer, options: { config?: Partial<AppConfig>; stt?: SpeechRecognizer } = {}) {
  const out: string[] = [];
  const socket = {
    streamSid: 'MZ' + '1'.repeat(32), sent: 0, dropped: 0,
    sendMedia: () => out.push('media'), sendMark: (n: string) => out.push(`mark:${n}`), sendClear: () => out.push('clear'), close: () => undefined,
  } as unknown as StreamSocket;
  const commits: CallWrite[] = [];
  const recorder = { begin: (s: CallSession) => new CallWrite(s), commit: async (_s: CallSession, _k: string, w: CallWrite) => void commits.push(w) } as unknown as CallRecorder;
  const { tts, release } = manualTts();
  const stt: SpeechRecognizer = options.stt ?? { name: 'fake', recognize: async () => ({ text: heard, confidence: heard ? 0.9 : 0 }) };
  const turn = { step: 1, cancel: jest.fn(), listener: undefined as undefined | TurnListener };
  const runner = {
    start: jest.fn(async (_s: CallSession, _i: unknown, listener: TurnListener) => ((turn.listener = listener), turn)),
  } as unknown as AgentTurnRunner;
  const session = { callSid: 'CA' + '2'.repeat(32), step: 1, seq: 0, history: [], agent: {}, callerTurns: 0, agentName: 'default' } as unknown as CallSession;
  const call = new StreamCall(
    {
      config: { ...config, ...options.config } as AppConfig, recorder, tts, stt, streamingStt,
      runner,
      control: { act: jest.fn() } as unknown as CallControl,
      persist: async () => undefined,
      released: () => undefined,
    },
    socket, session, agent,
  );
  let t = 0;
  const speak = (ms: number, loud = true) => {
    for (let i = 0; i < ms / 20; i++, t += 20) call.onAudio(Buffer.alloc(160, loud ? 0x10 : 0xff), t);
  };
  const turns = () => commits.flatMap((w) => w.turns);
  const events = () => commits.flatMap((w) => w.events);
  return { call, out, release, speak, turns, turn, runner, events, session };
}

describe('StreamCall barge-in', () => {
  it('clears at once, keeps only the sentences whose marks came back, and sends nothing of the answer after', async () => {
    const { call, out, release, speak, turns } = setup();
    call.begin();
    await release(); // "One." synthesised and paced out with its mark
    await release(); // "Two."
    expect(out.filter((x) => x.startsWith('mark'))).toEqual(['mark:a1.0', 'mark:a1.1']);
    call.onMark('a1.0'); // "One." has played; "Two." is still in Twilio's buffer

    speak(200, false);
    speak(220); // 200 ms of speech confirms the barge-in
    expect(out.at(-1)).toBe('clear');
    const clearedAt = out.length;

    call.onMark('a1.1'); // Twilio returns the pending mark on clear: it was not heard
    await release(); // nothing left: "Three." was being synthesised and its process was killed
    await new Promise((r) => setTimeout(r, 50));
    expect(out.length).toBe(clearedAt); // no frame, no mark of the old answer after `clear`

    const greeting = turns().find((t) => t.action === 'greeting')!;
    expect(greeting).toMatchObject({ text: 'One.', interrupted: true });
    await call.close('stop');
  });

  it('sends `clear` even when all audio was already handed to Twilio', async () => {
    const { call, out, release, speak } = setup();
    call.begin();
    for (let i = 0; i < 3; i++) await release();
    await new Promise((r) => setTimeout(r, 400)); // our queue drains; Twilio is still playing
    expect(out.filter((x) => x === 'media').length).toBe(15);
    speak(240);
    expect(out.at(-1)).toBe('clear');
    await call.close('stop');
  });

  it('cancels the in-flight agent turn and stores the answer cut at the played mark', async () => {
    const { call, out, release, speak, turns, turn } = setup('i need help with my bill');
    call.begin();
    speak(300); // the caller talks over the greeting before any of it was synthesised
    expect(out).toEqual(['clear']);
    speak(700, false); // end of turn: recognised, the agent turn starts
    await new Promise((r) => setImmediate(r));
    expect(turn.listener).toBeDefined();
    turn.listener!.token("You're through to billing. ");
    turn.listener!.token('What would you like to know? ');
    await release(); // first sentence synthesised and sent, with mark a3.0
    const mark = out.filter((x) => x.startsWith('mark:')).at(-1)!.slice(5);
    call.onMark(mark);
    speak(240); // barge-in while the turn is still streaming
    expect(out.at(-1)).toBe('clear');
    expect(turn.cancel).toHaveBeenCalled();
    const answer = turns().filter((t) => t.speaker === 'agent').at(-1)!;
    expect(answer).toMatchObject({ text: "You're through to billing.", interrupted: true });
    expect(turns().find((t) => t.speaker === 'caller')).toMatchObject({ text: 'i need help with my bill' });
    await call.close('stop');
  });
});

describe('StreamCall with a streaming recogniser', () => {
  it('forwards the audio, lets words (not energy) interrupt, and answers the provider\'s end of turn', async () => {
    const { recognizer, state } = liveStt();
    const { call, out, release, speak, turns, turn } = setup('', recognizer);
    call.begin();
    await release();
    speak(400); // loud, but the provider heard no words: no barge-in
    expect(out).not.toContain('clear');
    expect(state.bytes).toBe(20 * 160);
    state.listener!.interim('uh'); // too short to trust
    expect(out).not.toContain('clear');
    state.listener!.interim('i need help');
    expect(out.at(-1)).toBe('clear');
    state.listener!.endOfTurn({ text: 'i need help with my bill', confidence: 0.95 });
    await new Promise((r) => setImmediate(r));
    expect(turn.listener).toBeDefined();
    speak(700, false); // the local VAD's end of speech for the same utterance: already answered
    await new Promise((r) => setTimeout(r, 400));
    expect(turns().filter((t) => t.speaker === 'caller')).toEqual([expect.objectContaining({ text: 'i need help with my bill', confidence: 0.95 })]);
    await call.close('stop');
    expect(state.closed).toBe(true);
  });

  it('a provider that does not end the turn in time: its words so far are used, and its late verdict ignored', async () => {
    const { recognizer, state } = liveStt();
    const { call, speak, turns, turn } = setup('', recognizer);
    call.begin();
    speak(400);
    state.pending = { text: 'i need help with my bill', confidence: 0.9 };
    speak(700, false); // local end of speech; the provider stays silent
    await new Promise((r) => setTimeout(r, 450)); // MEDIA_PROVIDER_TIMEOUT_MS is 300 here
    expect(turn.listener).toBeDefined();
    state.listener!.endOfTurn({ text: 'i need help with my bill', confidence: 0.9 }); // late
    await new Promise((r) => setImmediate(r));
    expect(turns().filter((t) => t.speaker === 'caller')).toHaveLength(1);
    await call.close('stop');
  });

  it('a provider that fails falls back to the VAD and the offline recogniser, and says which provider failed', async () => {
    const { recognizer, state } = liveStt();
    const { call, out, release, speak, turns, events } = setup('i need help with my bill', recognizer);
    call.begin();
    await release();
    state.listener!.failed(new SpeechAuthError('cloud refused the API key (HTTP 401)'));
    expect(events().find((e) => e.type === 'stt_failed')).toMatchObject({ data: { provider: 'cloud', auth: true } });
    speak(240); // now energy barges in again
    expect(out.at(-1)).toBe('clear');
    speak(700, false);
    await new Promise((r) => setImmediate(r));
    expect(turns().find((t) => t.speaker === 'caller')).toMatchObject({ text: 'i need help with my bill' });
    await call.close('stop');
  });
});

/** Speculative turns: MEDIA_SPECULATIVE_MS 250 before the 600 ms end of turn. */
describe('StreamCall speculative turn handling', () => {
  const speculative = { MEDIA_SPECULATIVE_MS: 250 };

  /** A runner whose every turn is its own object, so the speculative one can be told apart. */
  function turnsOf(runner: AgentTurnRunner) {
    const started: { input: { text: string }; history: { role: string; text: string }[]; listener: TurnListener; cancel: jest.Mock }[] = [];
    (runner.start as jest.Mock<AgentTurnRunner['start']>).mockImplementation(async (session, input, listener, context) => {
      const turn = { step: session.step++, cancel: jest.fn(), active: true };
      started.push({ input: input as { text: string }, history: [...(context?.history ?? session.history)], listener, cancel: turn.cancel });
      return turn as never;
    });
    return started;
  }

  it('throws the prepared turn away when the caller goes on: nothing of it is stored, added to the history or sent', async () => {
    const recognized: number[] = [];
    const stt: SpeechRecognizer = { name: 'fake', recognize: async (audio) => (recognized.push(audio.length), { text: 'i need help with my bill', confidence: 0.9 }) };
    const { call, out, release, speak, turns, events, runner, session } = setup('', undefined, { config: speculative, stt });
    const started = turnsOf(runner);
    speak(600); // "i need help"
    speak(300, false); // a pause of 300 ms: the turn is prepared
    await new Promise((r) => setImmediate(r));
    expect(recognized).toHaveLength(1);
    expect(started).toHaveLength(1);
    // Asked with the caller's words as the history will hold them, while the session's own history is untouched.
    expect(started[0].history.at(-1)).toEqual({ role: 'caller', text: 'i need help with my bill' });
    expect(session.history).toEqual([]);
    started[0].listener.token("You're through to billing. ");
    started[0].listener.done({ decision: { say: "You're through to billing.", action: 'say', intent: 'billing', state: {} } } as never);
    await release(); // its first sentence is synthesised, and held
    expect(out).toEqual([]);

    speak(400); // "... with my bill, and my address": the caller went on before the end of turn
    expect(started[0].cancel).toHaveBeenCalled();
    expect(call.speculations).toMatchObject({ started: 1, discarded: 1, committed: 0 });
    await new Promise((r) => setTimeout(r, 50));
    expect(out).toEqual([]); // not one frame or mark of the discarded answer
    expect(turns()).toEqual([]);
    expect(events()).toEqual([]);
    expect(session.history).toEqual([]);
    expect(session.callerTurns).toBe(0);

    speak(700, false); // now the turn ends: prepared again during this pause, and committed
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(2);
    expect(call.speculations).toMatchObject({ started: 2, discarded: 1, committed: 1 });
    started[1].listener.token("You're through to billing. ");
    started[1].listener.token('What would you like to know? ');
    await release();
    expect(out.filter((x) => x.startsWith('mark:'))).toHaveLength(1); // one sentence, of the second answer only
    expect(turns().filter((t) => t.speaker === 'caller')).toEqual([expect.objectContaining({ text: 'i need help with my bill' })]);
    expect(session.history).toEqual([{ role: 'caller', text: 'i need help with my bill' }]);
    await call.close('stop');
    expect(started[1].cancel).toHaveBeenCalled(); // still streaming at close
    expect(turns().filter((t) => t.speaker === 'agent')).toEqual([expect.objectContaining({ text: '', interrupted: true })]);
  });

  it('commits the prepared answer at the end of turn: its first audio goes out at once, without recognising or asking again', async () => {
    const log: string[] = [];
    const stt: SpeechRecognizer = { name: 'fake', recognize: async () => (log.push('recognize'), { text: 'what are your opening hours', confidence: 0.9 }) };
    const { call, out, release, speak, turns, runner } = setup('', undefined, { config: speculative, stt });
    const started = turnsOf(runner);
    speak(800);
    speak(300, false);
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(1);
    log.push('agent asked');
    started[0].listener.token('We are open from nine to five. ');
    started[0].listener.token('Anything else? ');
    started[0].listener.done({ decision: { say: 'We are open from nine to five. Anything else?', action: 'say', intent: 'faq', state: {} } } as never);
    await release(); // first sentence ready (held); the second is not synthesised before the commit
    expect(out).toEqual([]);

    speak(300, false); // 600 ms of silence: end of turn
    log.push(...out.slice(0, 1).map(() => 'first audio'));
    expect(log).toEqual(['recognize', 'agent asked', 'first audio']); // the answer left in the end-of-turn frame's own tick
    expect(out.filter((x) => x === 'media')).toHaveLength(5);
    expect(out.at(5)).toMatch(/^mark:a\d+\.0$/);
    expect(started).toHaveLength(1);
    expect(call.speculations).toMatchObject({ started: 1, committed: 1, discarded: 0 });

    await release(); // the second sentence, synthesised only now
    const marks = out.filter((x) => x.startsWith('mark:')).map((x) => x.slice(5));
    expect(marks).toHaveLength(2);
    for (const mark of marks) call.onMark(mark);
    await new Promise((r) => setImmediate(r));
    const stored = turns();
    expect(stored.map((t) => t.speaker)).toEqual(['caller', 'agent']);
    expect(stored[1]).toMatchObject({ text: 'We are open from nine to five. Anything else?', data: expect.objectContaining({ intent: 'faq', speculative: true }) });
    await call.close('stop');
  });

  it('does not speculate when the recogniser has no spare capacity (twenty talking calls), and still answers', async () => {
    let calls = 0;
    const stt: SpeechRecognizer = {
      name: 'busy', hasSpareCapacity: () => false,
      recognize: async () => (calls++, { text: 'i need help with my bill', confidence: 0.9 }),
    };
    const { call, speak, runner, turns } = setup('', undefined, { config: speculative, stt });
    const started = turnsOf(runner);
    speak(600);
    speak(400, false);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(0);
    expect(started).toHaveLength(0);
    speak(300, false);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    expect(started).toHaveLength(1);
    expect(call.speculations.started).toBe(0);
    expect(turns().filter((t) => t.speaker === 'caller')).toHaveLength(1);
    await call.close('stop');
  });

  it('with a streaming recogniser: prepares on its words so far, adopts them if the final transcript agrees, else starts over', async () => {
    const { recognizer, state } = liveStt();
    const { call, speak, runner, turns } = setup('', recognizer, { config: speculative });
    const started = turnsOf(runner);
    call.begin();
    state.listener!.interim('hello there'); // words over the (unsynthesised) greeting: a barge-in, so nothing is current
    speak(600);
    state.pending = { text: 'i need help with my bill', confidence: 0.7 };
    speak(260, false);
    await new Promise((r) => setImmediate(r));
    expect(started.map((t) => t.input.text)).toEqual(['i need help with my bill']);
    state.listener!.endOfTurn({ text: 'I need help with my bill.', confidence: 0.95 });
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(1); // adopted, not asked again
    expect(call.speculations).toMatchObject({ committed: 1 });

    speak(700, false);
    started[0].listener.done({ decision: { say: 'Billing.', action: 'say', intent: 'billing', state: {} } } as never);
    state.listener!.interim('and my address'); // words over the answer: a barge-in, so nothing is current
    speak(600);
    state.pending = { text: 'and my', confidence: 0.7 };
    speak(260, false);
    await new Promise((r) => setImmediate(r));
    expect(started.map((t) => t.input.text)).toEqual(['i need help with my bill', 'and my']);
    state.listener!.endOfTurn({ text: 'and my address', confidence: 0.95 }); // the provider heard more: the prepared turn is wrong
    await new Promise((r) => setImmediate(r));
    expect(started[1].cancel).toHaveBeenCalled();
    expect(started.map((t) => t.input.text)).toEqual(['i need help with my bill', 'and my', 'and my address']);
    expect(turns().filter((t) => t.speaker === 'caller').map((t) => t.text)).toEqual(['I need help with my bill.', 'and my address']);
    await call.close('stop');
  });
});
