import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TwilioMediaClient } from '../scripts/call/media-client.js';
import { FakeOpenAiRealtime, tone } from './support/fake-openai-realtime.js';
import { FakeTwilioApi } from './support/fake-twilio-api.js';
import { newCallSid, startApi, startSystem, testConfig, waitFor, type Running, type System } from './support/harness.js';
import { answerCall, say } from './support/media.js';

const API_KEY = 'sk-test-realtime-0123456789';
const GREETING = 'Thanks for calling Acme. How can I help you today?';
const TRANSFER_TO = '+15005550009';
const MS_PER_CHAR = 20;

let fakeApi: FakeTwilioApi;
let fake: FakeOpenAiRealtime;
let config: ReturnType<typeof testConfig>;
let system: System;

beforeAll(async () => {
  const base = testConfig();
  fakeApi = new FakeTwilioApi(base.TWILIO_ACCOUNT_SID, base.TWILIO_AUTH_TOKEN);
  fake = new FakeOpenAiRealtime({ apiKey: API_KEY, msPerChar: MS_PER_CHAR, deltaMs: 100, speedup: 4 });
  const [apiUrl, realtimeUrl] = await Promise.all([fakeApi.start(), fake.start()]);
  // The default agent (realtime by STREAM_ENGINE) with a short greeting, and one that stays on the pipeline.
  const agents = JSON.parse(readFileSync('config/agents.json', 'utf8'));
  const agent = { ...agents.agents[0], greeting: GREETING };
  const file = join(mkdtempSync(join(tmpdir(), 'rt-agents-')), 'agents.json');
  writeFileSync(file, JSON.stringify({ agents: [agent, { ...agent, name: 'pipeline-agent', streamEngine: 'pipeline' }] }));
  config = testConfig({
    TWILIO_API_BASE_URL: apiUrl, HUMAN_TRANSFER_NUMBER: TRANSFER_TO, AGENTS_FILE: file,
    STREAM_ENGINE: 'realtime', OPENAI_REALTIME_URL: realtimeUrl, OPENAI_REALTIME_MODEL: 'gpt-realtime', OPENAI_API_KEY: API_KEY,
    OPENAI_REALTIME_VAD_SILENCE_MS: '400', OPENAI_REALTIME_STALL_MS: '2000',
  });
  system = await startSystem(config);
}, 60_000);

afterEach(() => {
  fake.reset();
  fake.options.msPerChar = MS_PER_CHAR;
  fake.options.speedup = 4;
});

afterAll(async () => {
  await system?.close();
  await fake?.stop();
  await fakeApi?.stop();
});

/** A call answered through the signed voice webhook, with Twilio's media socket playing it. */
async function call(api: Running = system.api, path = '') {
  const sid = newCallSid();
  fakeApi.calls.set(sid, { status: 'in-progress', to: '+15005550001', from: '+15005550006' });
  const res = await system.twilio.post(`/twilio/voice?mode=stream${path}`, { CallSid: sid, AccountSid: config.TWILIO_ACCOUNT_SID, From: '+15005550006', To: '+15005550001', CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01' });
  const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(res.body)![1];
  const caller = new TwilioMediaClient({ apiUrl: api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN });
  await caller.connect();
  caller.start(sid, config.TWILIO_ACCOUNT_SID, token);
  caller.startAudio();
  return { sid, caller, token };
}

/** Marks of one agent item (`r<generation>.<item>.<ms|end>`) echoed by the caller's side. */
const echoedOf = (caller: TwilioMediaClient, item: number) => caller.echoed.filter((e) => e.name.split('.')[1] === String(item));
const restUpdate = (sid: string) => fakeApi.requests.find((q) => q.path.endsWith(`/Calls/${sid}.json`));
const turnsWhen = (sid: string, done: (t: Awaited<ReturnType<System['turnsOf']>>) => boolean, ms = 15_000) =>
  waitFor(async () => {
    const t = await system.turnsOf(sid);
    return done(t) && t;
  }, ms);

function expectOrderedOnce(turns: { seq: number }[]): void {
  expect(turns.map((t) => t.seq)).toEqual(turns.map((_, i) => i + 1));
}

describe('realtime engine: a conversation', () => {
  it('configures the model for μ-law and server VAD, greets first, passes audio both ways untouched, and stores ordered turns', async () => {
    fake.script = [{ heard: 'what are your opening hours', reply: "We're open Monday to Friday, 8 am to 6 pm." }];
    const question = await say('what are your opening hours');
    const { sid, caller } = await call();
    const greetingEnd = await waitFor(async () => echoedOf(caller, 1).find((e) => e.name.endsWith('.end')), 15_000, 20);
    const model = fake.connections.at(-1)!;
    expect(model.model).toBe('gpt-realtime');
    const update = model.events('session.update')[0].session;
    expect(update.audio.input.format).toEqual({ type: 'audio/pcmu' });
    expect(update.audio.output.format).toEqual({ type: 'audio/pcmu' });
    expect(update.audio.output.voice).toBe('marin');
    expect(update.audio.input.turn_detection).toMatchObject({ type: 'server_vad', silence_duration_ms: 400, create_response: true, interrupt_response: true });
    expect(update.audio.input.transcription.model).toBe('gpt-4o-mini-transcribe');
    expect(update.tools.map((t: { name: string }) => t.name).sort()).toEqual(['end_call', 'lookup_faq', 'route_department', 'transfer_call']);
    expect(update.instructions).toContain('Acme');
    // The greeting is the first thing asked of the model, and its audio reaches Twilio byte for byte.
    expect(model.received.filter((e) => e.type !== 'session.update')[0]).toMatchObject({ type: 'response.create', response: { metadata: { purpose: 'greeting' } } });
    const greetingAudio = caller.audioBetween(0, caller.received.findIndex((r) => r.kind === 'mark' && r.name.endsWith('.end')));
    expect(greetingAudio.equals(tone(GREETING.length * MS_PER_CHAR))).toBe(true);
    // Caller audio reaches the model untouched (every frame Twilio sent, μ-law as is).
    const before = caller.received.length;
    await caller.say(question);
    const answerEnd = await waitFor(async () => echoedOf(caller, 2).find((e) => e.name.endsWith('.end')), 15_000, 20);
    expect(answerEnd.at).toBeGreaterThan(greetingEnd.at);
    expect(caller.audioBetween(before).length).toBeGreaterThan(0);
    expect(model.audioBytes).toBeGreaterThanOrEqual(question.length);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await turnsWhen(sid, (t) => t.length >= 3);
    expectOrderedOnce(turns);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ['agent', GREETING, false],
      ['caller', 'what are your opening hours', false],
      ['agent', "We're open Monday to Friday, 8 am to 6 pm.", false],
    ]);
    expect(turns[0].action).toBe('greeting');
    expect(turns[2].latencyMs).toBeGreaterThanOrEqual(0);
    await waitFor(async () => (await system.redis.keys(`call:{${sid}}:*`)).length === 0, 5000);
    expect(model.closedByClient).toBe(true);
  }, 60_000);

  it('runs tools in our code: routes, then transfers through the REST API after the hold message has played', async () => {
    fake.script = [
      { heard: 'I need help with my bill', tool: { name: 'route_department', arguments: { department: 'billing' } }, after: "You're through to billing. What would you like to know?" },
      { heard: 'I want to talk to a person', tool: { name: 'transfer_call', arguments: { target: 'human' } } },
    ];
    const [bill, person] = await Promise.all([say('I need help with my bill'), say('I want to talk to a person')]);
    const { sid, caller } = await call();
    await waitFor(async () => echoedOf(caller, 1).some((e) => e.name.endsWith('.end')), 15_000, 20);
    await caller.say(bill);
    await waitFor(async () => echoedOf(caller, 2).some((e) => e.name.endsWith('.end')), 15_000, 20);
    const output = fake.events('conversation.item.create').find((e) => e.item.type === 'function_call_output')!;
    expect(output.item.output).toContain("You're through to billing");
    expect(restUpdate(sid)).toBeUndefined();
    await caller.say(person);
    const update = await waitFor(async () => restUpdate(sid), 15_000);
    // The hold message was spoken (all of it played) before the transfer.
    expect(echoedOf(caller, 3).some((e) => e.name.endsWith('.end'))).toBe(true);
    expect(String(update.params.Twiml)).toContain(`<Dial timeout="30"><Number>${TRANSFER_TO}</Number></Dial>`);
    const actionAsk = fake.events('response.create').find((e) => e.response?.metadata?.purpose === 'action')!;
    expect(actionAsk.response.instructions).toContain('Please hold while I connect you');
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await turnsWhen(sid, (t) => t.some((x) => x.action === 'transfer' && x.speaker === 'agent'));
    expectOrderedOnce(turns);
    expect(turns.map((t) => `${t.speaker}:${t.action ?? ''}`)).toEqual([
      'agent:greeting', 'caller:', 'tool:route_department', 'agent:route', 'caller:', 'tool:transfer_call', 'agent:transfer',
    ]);
    expect(turns[2].text).toBe('route_department({"department":"billing"})');
    expect(turns[6].text).toBe('Please hold while I connect you to a member of our team.');
  }, 60_000);

  it('barge-in: clear at once, response cancelled, item truncated at the played position; the transcript keeps what was heard', async () => {
    fake.options.msPerChar = 70; // a long greeting, produced barely faster than it plays
    fake.options.speedup = 1.3;
    fake.script = [{ heard: 'billing please', reply: 'Sure.' }];
    const words = await say('billing please');
    const { sid, caller } = await call();
    await waitFor(async () => echoedOf(caller, 1).length >= 4, 15_000, 20);
    await caller.say(words);
    const clear = await waitFor(async () => caller.received.find((r) => r.kind === 'clear'), 10_000, 10);
    const truncate = await waitFor(async () => fake.events('conversation.item.truncate')[0], 5000, 10);
    expect(fake.events('response.cancel').length).toBe(1);
    // Truncated where our marks say playback was: the last greeting mark echoed before the clear.
    const played = Math.max(...echoedOf(caller, 1).filter((e) => e.at < clear.at && !e.name.endsWith('.end')).map((e) => Number(e.name.split('.')[2])));
    expect(truncate.audio_end_ms).toBeLessThanOrEqual(played);
    expect(truncate.audio_end_ms).toBeGreaterThanOrEqual(played - 100); // an echo may still be in flight at the clear
    expect(truncate.content_index).toBe(0);
    // Nothing of the greeting after the clear: later audio belongs to the answer (a new generation of marks).
    const after = caller.received.slice(caller.received.indexOf(clear) + 1);
    expect(after.filter((r) => r.kind === 'mark').every((r) => r.kind === 'mark' && r.name.startsWith('r1.'))).toBe(true);
    await waitFor(async () => echoedOf(caller, 2).some((e) => e.name.endsWith('.end')), 15_000, 20);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await turnsWhen(sid, (t) => t.length >= 3);
    expectOrderedOnce(turns);
    const greeting = turns[0];
    expect(greeting).toMatchObject({ speaker: 'agent', action: 'greeting', interrupted: true });
    expect(greeting.text.length).toBeGreaterThan(0);
    expect(GREETING.startsWith(greeting.text)).toBe(true);
    expect(greeting.text.length).toBeLessThan(GREETING.length);
    expect(turns.slice(1).map((t) => [t.speaker, t.text])).toEqual([['caller', 'billing please'], ['agent', 'Sure.']]);
    const { rows } = await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'barge_in'`, [sid]);
    expect(rows.length).toBe(1);
  }, 60_000);

  it('passes a key press to the model as the caller’s turn, interrupting the greeting', async () => {
    fake.options.speedup = 1.3;
    fake.options.msPerChar = 70;
    const { sid, caller } = await call();
    await waitFor(async () => echoedOf(caller, 1).length >= 2, 15_000, 20);
    caller.dtmf('2');
    await waitFor(async () => caller.received.some((r) => r.kind === 'clear'), 5000, 10);
    const note = await waitFor(async () => fake.events('conversation.item.create').find((e) => e.item.role === 'user'), 5000, 10);
    expect(note.item.content[0]).toEqual({ type: 'input_text', text: '(The caller pressed 2 on the keypad.)' });
    await waitFor(async () => echoedOf(caller, 2).some((e) => e.name.endsWith('.end')), 15_000, 20);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await turnsWhen(sid, (t) => t.length >= 3);
    expectOrderedOnce(turns);
    expect(turns.map((t) => [t.speaker, t.action, t.interrupted])).toEqual([['agent', 'greeting', true], ['caller', 'dtmf', false], ['agent', null, false]]);
    expect(turns[1].text).toBe('[pressed 2]');
  }, 60_000);

  it('a second socket for the call opens a new model session that knows the conversation, without greeting again', async () => {
    fake.script = [{ heard: 'what are your hours', reply: 'Eight to six.' }];
    const words = await say('what are your hours');
    const { sid, caller, token } = await call();
    await waitFor(async () => echoedOf(caller, 1).some((e) => e.name.endsWith('.end')), 15_000, 20);
    await caller.say(words);
    await waitFor(async () => echoedOf(caller, 2).some((e) => e.name.endsWith('.end')), 15_000, 20);
    await turnsWhen(sid, (t) => t.length >= 3);
    const second = new TwilioMediaClient({ apiUrl: system.api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN });
    await second.connect();
    second.start(sid, config.TWILIO_ACCOUNT_SID, token);
    await waitFor(async () => caller.closed, 10_000, 20);
    const model = await waitFor(async () => fake.connections.length === 2 && fake.connections[1].events('session.update').length > 0 && fake.connections[1], 10_000, 20);
    await waitFor(async () => model.events('conversation.item.create').length >= 3, 5000, 20);
    const replay = model.events('conversation.item.create').map((e) => [e.item.role, e.item.content[0].text]);
    expect(replay).toEqual([['assistant', GREETING], ['user', 'what are your hours'], ['assistant', 'Eight to six.']]);
    expect(model.events('response.create')).toHaveLength(0); // no second greeting
    second.stop(sid, config.TWILIO_ACCOUNT_SID);
    await waitFor(async () => (await system.redis.keys(`call:{${sid}}:*`)).length === 0, 5000);
    expectOrderedOnce(await system.turnsOf(sid));
  }, 60_000);

  it('keeps a call on the pipeline when its agent says so', async () => {
    const count = fake.connections.length;
    const { sid, caller } = await call(system.api, '&agent=pipeline-agent');
    const mark = await waitFor(async () => caller.received.find((r) => r.kind === 'mark'), 15_000, 20);
    expect(fake.connections.length).toBe(count);
    expect(mark.kind === 'mark' && mark.name).toMatch(/^a\d+\.\d+$/); // the pipeline's marks (espeak greeting)
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
  }, 30_000);
});

describe('realtime engine: when the model fails', () => {
  async function failingCall(setup: () => void, expectPartial = true) {
    setup();
    fake.script = [{ heard: 'what are your hours', reply: 'We are open from eight in the morning until six in the evening every weekday.' }];
    const words = await say('what are your hours');
    const { sid, caller } = await call();
    await waitFor(async () => echoedOf(caller, 1).some((e) => e.name.endsWith('.end')), 15_000, 20);
    await caller.say(words);
    const spokeAt = performance.now();
    const update = await waitFor(async () => restUpdate(sid), 10_000, 10);
    const updatedAt = performance.now();
    const twiml = String(update.params.Twiml);
    expect(twiml).toContain("I'm sorry, I'm having trouble on my side. Let me put you through to a colleague.");
    expect(twiml).toContain(`<Number>${TRANSFER_TO}</Number>`);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await turnsWhen(sid, (t) => t.some((x) => x.action === 'transfer'));
    expectOrderedOnce(turns);
    expect(turns.at(-1)).toMatchObject({ speaker: 'agent', action: 'transfer' });
    if (expectPartial) expect(caller.received.some((r) => r.kind === 'clear')).toBe(true);
    const { rows } = await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'realtime_error'`, [sid]);
    const turnEnd = fake.connections.at(-1)!.turnEnds[0];
    return { rows, spokeAt, updatedAt, turnEnd, update, sid, turns };
  }

  it('the model socket closes mid-answer: what played stops, apology and transfer', async () => {
    const { rows } = await failingCall(() => (fake.faults = [{ on: 1, kind: 'close', afterDeltas: 3 }]));
    expect(rows.some((r) => r.data.failure === 'closed' && r.data.provider === 'openai-realtime')).toBe(true);
  }, 60_000);

  it('the model errors mid-answer (server_error, failed response): apology and transfer', async () => {
    const { rows, turns } = await failingCall(() => (fake.faults = [{ on: 1, kind: 'error', afterDeltas: 3 }]));
    // The socket was still up: the caller's words, transcribed after the failure, are kept in their place.
    expect(turns.map((t) => t.speaker)).toEqual(['agent', 'caller', 'agent', 'agent']);
    expect(turns[1].text).toBe('what are your hours');
    expect(turns[2].interrupted).toBe(true);
    expect(rows.some((r) => r.data.fatal === false && r.data.code === 'server_error')).toBe(true);
    expect(rows.some((r) => r.data.fatal === true && /response failed/.test(r.data.detail))).toBe(true);
  }, 60_000);

  it('a slow model (no answer within the stall budget): the apology reaches Twilio within the stall budget of the model taking the turn', async () => {
    const { rows, spokeAt, updatedAt, turnEnd } = await failingCall(() => (fake.answerDelayMs = 8000), false);
    // From the model taking the turn to Twilio getting the apology: the 2 s stall budget + the REST call.
    expect(updatedAt - turnEnd).toBeGreaterThanOrEqual(1900);
    expect(updatedAt - turnEnd).toBeLessThan(2800);
    // Dead air as the caller hears it adds the model's end-of-turn silence (400 ms here); generous for a busy machine.
    expect(updatedAt - spokeAt).toBeLessThan(4000);
    expect(rows.some((r) => r.data.failure === 'timeout')).toBe(true);
  }, 60_000);

  it('a model that stalls mid-answer is caught once the audio it sent has played out', async () => {
    const { rows } = await failingCall(() => (fake.faults = [{ on: 1, kind: 'stall', afterDeltas: 2 }]), false);
    expect(rows.some((r) => r.data.failure === 'timeout')).toBe(true);
  }, 60_000);

  it('malformed model messages are ignored and the call carries on', async () => {
    fake.malformed = true;
    fake.script = [{ heard: 'what are your hours', reply: 'Eight to six.' }];
    const words = await say('what are your hours');
    const { sid, caller } = await call();
    await waitFor(async () => echoedOf(caller, 1).some((e) => e.name.endsWith('.end')), 15_000, 20);
    await caller.say(words);
    await waitFor(async () => echoedOf(caller, 2).some((e) => e.name.endsWith('.end')), 15_000, 20);
    expect(restUpdate(sid)).toBeUndefined();
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await turnsWhen(sid, (t) => t.length >= 3);
    expect(turns.map((t) => t.text)).toEqual([GREETING, 'what are your hours', 'Eight to six.']);
    const { rows } = await waitFor(async () => {
      const r = await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'stream_end'`, [sid]);
      return r.rows.length > 0 && r;
    });
    expect(rows[0].data.malformedModelMessages).toBeGreaterThanOrEqual(6);
  }, 60_000);

  it('rate limited (HTTP 429 at the upgrade): apology and transfer before any dead air', async () => {
    fake.refuseWith = 429;
    const { sid, caller } = await call();
    const started = performance.now();
    const update = await waitFor(async () => restUpdate(sid), 5000, 10);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(String(update.params.Twiml)).toContain(`<Number>${TRANSFER_TO}</Number>`);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const { rows } = await waitFor(async () => {
      const r = await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'realtime_error'`, [sid]);
      return r.rows.length > 0 && r;
    });
    expect(rows[0].data).toMatchObject({ provider: 'openai-realtime', failure: 'refused', status: 429 });
  }, 30_000);
});

describe('realtime engine: maximum call duration', () => {
  it('at OPENAI_REALTIME_MAX_CALL_SECONDS what plays stops, the caller hears a goodbye and the call is hung up', async () => {
    // A second api whose calls last at most 3 s, sharing the system's worker and stores.
    const limited = testConfig({ ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])), OPENAI_REALTIME_MAX_CALL_SECONDS: '3' });
    const api = await startApi(limited);
    try {
      // A greeting of about 5 s, so the agent is still talking when the limit comes.
      fake.options.msPerChar = 100;
      fake.options.speedup = 1.3;
      const started = performance.now();
      const { sid, caller } = await call(api);
      const update = await waitFor(async () => restUpdate(sid), 15_000, 10);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(2900);
      expect(elapsed).toBeLessThan(10_000); // generous for a busy machine: the point is that it ends
      const twiml = String(update.params.Twiml);
      expect(twiml).toContain("We've reached the time limit for this call. Thank you for calling, goodbye.");
      expect(twiml).toContain('<Hangup/>');
      expect(twiml).not.toContain('<Dial');
      // The greeting still playing was stopped at once, and the model let go.
      expect(caller.received.some((r) => r.kind === 'clear')).toBe(true);
      const model = fake.connections.at(-1)!;
      await waitFor(async () => model.closedByClient, 5000);
      caller.stop(sid, config.TWILIO_ACCOUNT_SID);
      const turns = await turnsWhen(sid, (t) => t.some((x) => x.action === 'hangup'));
      expectOrderedOnce(turns);
      expect(turns.map((t) => [t.speaker, t.action, t.interrupted])).toEqual([['agent', 'greeting', true], ['agent', 'hangup', false]]);
      expect(GREETING.startsWith(turns[0].text)).toBe(true);
      expect(turns[0].text.length).toBeLessThan(GREETING.length);
      expect(turns[1].text).toBe("We've reached the time limit for this call. Thank you for calling, goodbye.");
      const { rows } = await waitFor(async () => {
        const r = await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'hangup'`, [sid]);
        return r.rows.length > 0 && r;
      });
      expect(rows[0].data).toMatchObject({ reason: 'max_duration', live: true });
    } finally {
      await api.close();
    }
  }, 60_000);
});

describe('realtime engine: bad credentials', () => {
  it('401 from the provider: a log line naming it and the key, and the caller hears a polite goodbye', async () => {
    // A second api with a wrong key and no transfer number, sharing the system's worker and stores.
    const badConfig = testConfig({ ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])), OPENAI_API_KEY: 'sk-wrong', HUMAN_TRANSFER_NUMBER: '' });
    const api = await startApi(badConfig);
    const errors = jest.spyOn(Logger.prototype, 'error');
    try {
      const { sid, caller } = await call(api);
      const update = await waitFor(async () => restUpdate(sid), 5000, 10);
      const twiml = String(update.params.Twiml);
      expect(twiml).toContain('Please call us back in a few minutes. Goodbye.');
      expect(twiml).toContain('<Hangup/>');
      expect(twiml).not.toContain('<Dial');
      const line = errors.mock.calls.map((c) => String(c[1] ?? c[0])).find((m) => m.includes('OpenAI Realtime'));
      expect(line).toMatch(/OpenAI Realtime refused the connection \(HTTP 401: invalid_api_key: Incorrect API key provided.*\) — check OPENAI_API_KEY/);
      expect(JSON.stringify(errors.mock.calls)).not.toContain('sk-wrong');
      expect(fake.connections.length).toBe(0);
      caller.stop(sid, config.TWILIO_ACCOUNT_SID);
      const turns = await turnsWhen(sid, (t) => t.some((x) => x.action === 'hangup'));
      expect(turns).toHaveLength(1);
    } finally {
      errors.mockRestore();
      await api.close();
    }
  }, 30_000);
});
