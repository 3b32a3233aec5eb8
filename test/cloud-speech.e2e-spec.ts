import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TwilioMediaClient } from '../scripts/call/media-client.js';
import { FakeElevenLabs } from './support/fake-elevenlabs.js';
import { FakeTwilioApi } from './support/fake-twilio-api.js';
import { newCallSid, startSystem, testConfig, waitFor, type System } from './support/harness.js';
import { mulawLevelDb } from '#libs/media';
import { answerCall, hear, say as speak, stt } from './support/media.js';
import { FakeDeepgram, SPEECH_DB } from './support/fake-deepgram.js';

/**
 * The caller's words without espeak-ng's trailing silence: the tests compare the agent's first
 * frame with the end of the caller's speech, and Deepgram (like the fake) may end the turn inside
 * a long silent tail, before the last frame of the buffer has even been sent.
 */
async function say(text: string): Promise<Buffer> {
  const audio = await speak(text);
  let end = audio.length - (audio.length % 160);
  while (end >= 160 && mulawLevelDb(audio.subarray(end - 160, end)) < SPEECH_DB) end -= 160;
  return audio.subarray(0, end);
}

// Streaming cloud speech in the pipeline engine, end to end: real api and worker, the real
// /twilio/media socket played by a Twilio client, and local Deepgram and ElevenLabs servers
// speaking their real protocols. Their failures must leave the caller with the offline voice
// and recogniser, never with silence.

let fakeApi: FakeTwilioApi;
let deepgram: FakeDeepgram;
let elevenlabs: FakeElevenLabs;
let system: System;
let config: ReturnType<typeof testConfig>;
const voiceCache = new Map<string, Promise<Buffer>>();

const REPLIES = [
  "you're through to billing", "you're through to technical support", "you're through to sales", 'thanks for calling acme',
  'please hold while i connect you to a member of our team', "sorry i didn't quite follow", "i'm sorry i couldn't look that up just now",
];
const GREETING = ['Thanks for calling Acme.', 'I can help with billing, technical support or sales.', 'How can I help you today?'];

beforeAll(async () => {
  const base = testConfig();
  fakeApi = new FakeTwilioApi(base.TWILIO_ACCOUNT_SID, base.TWILIO_AUTH_TOKEN);
  deepgram = new FakeDeepgram();
  elevenlabs = new FakeElevenLabs((text) => {
    if (!voiceCache.has(text)) voiceCache.set(text, say(text));
    return voiceCache.get(text)!;
  });
  const [twilioUrl, deepgramUrl, elevenlabsUrl] = await Promise.all([fakeApi.start(), deepgram.start(), elevenlabs.start()]);
  config = testConfig({
    TWILIO_API_BASE_URL: twilioUrl,
    HUMAN_TRANSFER_NUMBER: '+15005550009',
    MEDIA_STT_PROVIDER: 'deepgram',
    DEEPGRAM_URL: deepgramUrl,
    DEEPGRAM_API_KEY: deepgram.apiKey,
    MEDIA_TTS_PROVIDER: 'elevenlabs',
    ELEVENLABS_URL: elevenlabsUrl,
    ELEVENLABS_API_KEY: elevenlabs.apiKey,
    ELEVENLABS_VOICE_ID: 'TestVoice0000000001',
    MEDIA_PROVIDER_TIMEOUT_MS: '1500',
  });
  system = await startSystem(config);
}, 60_000);

afterEach(() => {
  deepgram.behaviour = {};
  elevenlabs.behaviour = {};
  deepgram.script = [];
  jest.restoreAllMocks();
});

afterAll(async () => {
  await system?.close();
  await Promise.all([fakeApi?.stop(), deepgram?.stop(), elevenlabs?.stop()]);
  await stt.dispose();
});

async function connectCall() {
  const sid = newCallSid();
  fakeApi.calls.set(sid, { status: 'in-progress', to: '+15005550001', from: '+15005550006' });
  const { token } = await answerCall(system.twilio, config, sid, 'stream');
  const caller = new TwilioMediaClient({ apiUrl: system.api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN });
  await caller.connect();
  caller.start(sid, config.TWILIO_ACCOUNT_SID, token);
  caller.startAudio();
  return { sid, caller };
}

/** Waits for the whole greeting to have played (its three marks echoed). */
const greetingPlayed = (caller: TwilioMediaClient) => waitFor(async () => caller.echoed.filter((e) => e.name.startsWith('a1.')).length === 3, 30_000, 20);

/** The first sentence of the next answer after `from` (a `received` index), recognised back. */
async function nextAnswer(caller: TwilioMediaClient, from: number) {
  const first = await waitFor(async () => caller.received.slice(from).find((x) => x.kind === 'media'), 20_000, 20);
  const start = caller.received.indexOf(first);
  const mark = await waitFor(async () => caller.received.slice(start).find((x) => x.kind === 'mark'), 20_000, 20);
  return { first, heard: await hear(caller.audioBetween(start, caller.received.indexOf(mark)), REPLIES) };
}

async function finish(sid: string, caller: TwilioMediaClient, until: (t: Awaited<ReturnType<System['turnsOf']>>) => boolean) {
  caller.stop(sid, config.TWILIO_ACCOUNT_SID);
  return waitFor(async () => {
    const turns = await system.turnsOf(sid);
    return until(turns) && turns;
  }, 15_000);
}

const logged = (spy: { mock: { calls: unknown[][] } }, pattern: RegExp) => spy.mock.calls.some((args) => args.some((a) => typeof a === 'string' && pattern.test(a)));

describe('pipeline with Deepgram and ElevenLabs', () => {
  it('a normal conversation: streamed greeting, Deepgram ends the turn, the answer streams before its sentence is complete', async () => {
    elevenlabs.behaviour = { chunkGapMs: 40 };
    const { sid, caller } = await connectCall();
    const request = await say('I need help with my bill');
    deepgram.script = ['I need help with my bill'];
    await greetingPlayed(caller);
    const before = caller.received.length;
    await caller.say(request);
    const speechEnd = performance.now();
    const { first, heard } = await nextAnswer(caller, before);
    expect(first.at).toBeGreaterThan(speechEnd);
    expect(heard).toBe("you're through to billing");

    // Deepgram was asked for Twilio's audio as it is, with interim results, VAD events and endpointing.
    const conn = deepgram.connections.at(-1)!;
    expect(conn.authorization).toBe(`Token ${deepgram.apiKey}`);
    expect(Object.fromEntries(['encoding', 'sample_rate', 'interim_results', 'vad_events', 'endpointing', 'utterance_end_ms'].map((k) => [k, conn.query.get(k)]))).toEqual({
      encoding: 'mulaw', sample_rate: '8000', interim_results: 'true', vad_events: 'true', endpointing: '300', utterance_end_ms: '1000',
    });
    expect(conn.audioBytes).toBeGreaterThan(request.length);

    // ElevenLabs: one stream-input socket per sentence, in the documented message order.
    const answerStream = elevenlabs.streams.find((s) => s.text.startsWith("You're through to billing"))!;
    expect(answerStream.voiceId).toBe('TestVoice0000000001');
    expect(answerStream.query.get('output_format')).toBe('ulaw_8000');
    expect(answerStream.messages[0]).toMatchObject({ text: ' ', 'xi-api-key': elevenlabs.apiKey });
    expect(answerStream.messages[1]).toMatchObject({ flush: true });
    expect(answerStream.messages.at(-1)).toEqual({ text: '' });
    // Streamed: the caller got the answer's first frame before the provider had sent its last chunk.
    expect(answerStream.chunksSent).toBeGreaterThan(2);
    expect(first.at).toBeLessThan(answerStream.lastChunkAt!);

    const turns = await finish(sid, caller, (t) => t.some((x) => x.action === 'route'));
    expect(turns.find((t) => t.action === 'greeting')).toMatchObject({ text: GREETING.join(' '), interrupted: false });
    const callerTurns = turns.filter((t) => t.speaker === 'caller');
    expect(callerTurns).toHaveLength(1);
    expect(callerTurns[0]).toMatchObject({ text: 'I need help with my bill', confidence: expect.closeTo(0.97, 2) });
    // The socket was closed politely at the end of the call.
    await waitFor(async () => conn.closedCode !== undefined, 5000);
    expect(conn.controls).toContain('{"type":"CloseStream"}');
  }, 90_000);

  it('barge-in from interim results: clear goes out while the caller is still talking, the greeting is cut at its marks', async () => {
    const { sid, caller } = await connectCall();
    const request = await say('I want to buy a new plan please');
    deepgram.script = ['I want to buy a new plan please'];
    await waitFor(async () => caller.echoed.some((e) => e.name === 'a1.0'), 20_000, 20);
    const talking = caller.say(request);
    const clear = await waitFor(async () => caller.received.find((x) => x.kind === 'clear'), 10_000, 10);
    const clearIndex = caller.received.indexOf(clear);
    await talking;
    const speechEnd = performance.now();
    // The interim words interrupted the agent before the caller had finished (not the end of turn).
    expect(clear.at).toBeLessThan(speechEnd);
    const { first, heard } = await nextAnswer(caller, clearIndex + 1);
    expect(first.at).toBeGreaterThan(speechEnd);
    expect(heard).toBe("you're through to sales");
    const turns = await finish(sid, caller, (t) => t.some((x) => x.action === 'route'));
    const played = caller.echoed.filter((e) => e.at < clear.at && e.name.startsWith('a1.')).length;
    expect(turns.find((t) => t.action === 'greeting')).toMatchObject({ interrupted: true, text: GREETING.slice(0, played).join(' ') });
    const events = await system.db.query('SELECT type FROM call_events WHERE "callSid" = $1', [sid]);
    expect(events.rows.map((e) => e.type)).toContain('barge_in');
  }, 90_000);

  it('Deepgram closing mid-call and ElevenLabs closing mid-sentence: the offline recogniser and the marks carry the call on', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    deepgram.behaviour = { closeOnSpeech: { code: 1011, reason: 'NET-0001' } };
    const { sid, caller } = await connectCall();
    const request = await say('I need help with my bill');
    deepgram.script = ['never heard: the socket closes first'];
    await greetingPlayed(caller);
    elevenlabs.behaviour = { closeAfterChunks: 2 };
    const before = caller.received.length;
    await caller.say(request);
    // Recognised offline; the answer's first sentence is cut after two chunks (400 ms) but still marked.
    await waitFor(async () => caller.received.slice(before).some((x) => x.kind === 'media'), 20_000, 20);
    // Both sentences of the answer were heard to their marks.
    await waitFor(async () => caller.echoed.filter((e) => !e.name.startsWith('a1.')).length >= 2, 20_000, 20);
    const turns = await finish(sid, caller, (t) => t.some((x) => x.action === 'route'));
    expect(turns.find((t) => t.speaker === 'caller')?.text).toMatch(/bill/);
    expect(turns.find((t) => t.action === 'route')?.text).toMatch(/billing/);
    const events = await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'stt_failed'`, [sid]);
    expect(events.rows[0]?.data).toMatchObject({ provider: 'deepgram', auth: false });
    expect(logged(warn, /deepgram speech recognition failed mid-call/)).toBe(true);
    expect(logged(warn, /elevenlabs text-to-speech failed mid-sentence/)).toBe(true);
  }, 90_000);

  it('slow providers: a late Deepgram is overtaken by the offline recogniser (one caller turn), a stalled ElevenLabs by espeak', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    deepgram.behaviour = { delayMs: 4000 }; // every Deepgram message 4 s late
    elevenlabs.behaviour = { firstAudioDelayMs: 5000 }; // no audio for 5 s
    const { sid, caller } = await connectCall();
    await greetingPlayed(caller); // spoken by espeak after 1.5 s per sentence
    const request = await say('I need help with my bill');
    deepgram.script = ['I need help with my bill'];
    const before = caller.received.length;
    await caller.say(request);
    const speechEnd = performance.now();
    const { first, heard } = await nextAnswer(caller, before);
    // Neither provider answered in MEDIA_PROVIDER_TIMEOUT_MS (1.5 s each): pocketsphinx heard the caller
    // and espeak spoke, sooner than waiting for both (4 s for Deepgram's final + 5 s for ElevenLabs' audio).
    expect(first.at - speechEnd).toBeLessThan(8000);
    expect(heard).toBe("you're through to billing");
    expect(logged(warn, /speech provider did not end the turn in time/)).toBe(true);
    expect(logged(warn, /elevenlabs text-to-speech failed: speaking the sentence with espeak/)).toBe(true);
    // Deepgram's late final arrives afterwards and does not become a second caller turn.
    const conn = deepgram.connections.at(-1)!;
    await waitFor(async () => conn.sent.some((m) => m.speech_final === true), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const turns = await finish(sid, caller, (t) => t.some((x) => x.action === 'route'));
    expect(turns.filter((t) => t.speaker === 'caller')).toHaveLength(1);
    expect(turns.find((t) => t.speaker === 'caller')?.text).toMatch(/bill/);
  }, 120_000);

  it('malformed provider messages: Deepgram garbage is ignored, an ElevenLabs speaking only garbage is replaced by espeak', async () => {
    deepgram.behaviour = { garbage: true };
    elevenlabs.behaviour = { garbageOnly: true };
    const { sid, caller } = await connectCall();
    await greetingPlayed(caller); // spoken by espeak
    const request = await say('I need help with my bill');
    deepgram.script = ['I need help with my bill'];
    const before = caller.received.length;
    await caller.say(request);
    const { heard } = await nextAnswer(caller, before);
    expect(heard).toBe("you're through to billing");
    const turns = await finish(sid, caller, (t) => t.some((x) => x.action === 'route'));
    // The transcript is Deepgram's (exact text), not the offline recogniser's.
    expect(turns.find((t) => t.speaker === 'caller')?.text).toBe('I need help with my bill');
  }, 90_000);

  // Last: a refused key keeps ElevenLabs switched off for a minute in this process.
  it('bad credentials: a clear log line names each provider, and the caller is served offline', async () => {
    const error = jest.spyOn(Logger.prototype, 'error');
    deepgram.apiKey = 'a-different-deepgram-key';
    elevenlabs.apiKey = 'a-different-elevenlabs-key';
    try {
      const { sid, caller } = await connectCall();
      await greetingPlayed(caller);
      const request = await say('I need help with my bill');
      const before = caller.received.length;
      await caller.say(request);
      const { heard } = await nextAnswer(caller, before);
      expect(heard).toBe("you're through to billing");
      await finish(sid, caller, (t) => t.some((x) => x.action === 'route'));
      expect(logged(error, /deepgram speech recognition refused our credentials/)).toBe(true);
      expect(logged(error, /elevenlabs text-to-speech refused our credentials/)).toBe(true);
      const events = await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'stt_failed'`, [sid]);
      expect(events.rows[0]?.data).toMatchObject({ provider: 'deepgram', auth: true });
      // The key itself never reached a log line.
      expect(JSON.stringify(error.mock.calls)).not.toContain(config.DEEPGRAM_API_KEY);
    } finally {
      deepgram.apiKey = config.DEEPGRAM_API_KEY!;
      elevenlabs.apiKey = config.ELEVENLABS_API_KEY!;
    }
  }, 90_000);
});
