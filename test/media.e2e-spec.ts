import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { TwilioMediaClient } from '../scripts/call/media-client.js';
import { FakeTwilioApi } from './support/fake-twilio-api.js';
import { FakeTwilio, newCallSid, startSystem, testConfig, waitFor, type Running, type System } from './support/harness.js';
import { mulawLevelDb } from '#libs/media';
import { answerCall, hear, say, sleep, stt } from './support/media.js';

let fakeApi: FakeTwilioApi;
let config: ReturnType<typeof testConfig>;
let system: System;
let api: Running;
let twilio: FakeTwilio;
let db: pg.Pool;
let r: Redis;

/** First sentences the agent may say: the recogniser must pick the right one, not just any. */
const REPLIES = [
  "you're through to billing", "you're through to technical support", "you're through to sales", 'thanks for calling acme',
  'please hold while i connect you to a member of our team', "sorry i didn't quite follow", "i'm sorry i couldn't look that up just now",
];

beforeAll(async () => {
  const base = testConfig();
  fakeApi = new FakeTwilioApi(base.TWILIO_ACCOUNT_SID, base.TWILIO_AUTH_TOKEN);
  const fakeUrl = await fakeApi.start();
  config = testConfig({ TWILIO_API_BASE_URL: fakeUrl, HUMAN_TRANSFER_NUMBER: '+15005550009' });
  system = await startSystem(config);
  ({ api, twilio, db, redis: r } = system);
}, 60_000);

afterAll(async () => {
  await system?.close();
  await fakeApi?.stop();
  await stt.dispose();
});

function client(extra: Partial<ConstructorParameters<typeof TwilioMediaClient>[0]> = {}) {
  return new TwilioMediaClient({ apiUrl: api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN, ...extra });
}

const turnsOf = (callSid: string) => system.turnsOf(callSid);

describe('mode=stream', () => {
  it('answers with <Connect><Stream> and a token parameter', async () => {
    const { res, token } = await answerCall(twilio, config, newCallSid(), 'stream');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<Connect><Stream url="wss://voice.example.test/twilio/media"><Parameter name="token" value="');
    expect(token.length).toBeGreaterThan(16);
  });

  it('barge-in on the greeting, then a spoken billing request is answered with billing audio', async () => {
    const sid = newCallSid();
    const { token } = await answerCall(twilio, config, sid, 'stream');
    const caller = client();
    await caller.connect();
    const request = await say('I need help with my bill');
    caller.start(sid, config.TWILIO_ACCOUNT_SID, token);
    caller.startAudio(); // Twilio streams continuously: silence between utterances

    // The greeting plays; once its first sentence is heard (mark echoed), the caller talks over it.
    await waitFor(async () => caller.echoed.length >= 1, 15_000, 20);
    const bargeAt = performance.now();
    const talking = caller.say(request);
    const clear = await waitFor(async () => caller.received.find((x) => x.kind === 'clear'), 5000, 10);
    // Minimum speech (200 ms) plus scheduling on a shared 2-core machine: generous but meaningful.
    expect(clear.at - bargeAt).toBeLessThan(1500);
    const clearIndex = caller.received.indexOf(clear);
    await talking;
    const speechEnd = performance.now();

    // No frame of the greeting after the clear: the next audio is the answer, after the caller finished.
    const next = await waitFor(async () => caller.received.slice(clearIndex + 1).find((x) => x.kind === 'media'), 15_000, 20);
    expect(next.at).toBeGreaterThan(speechEnd);

    // The answer's first sentence, up to its mark, recognised back as the billing answer.
    const start = caller.received.indexOf(next);
    const mark = await waitFor(async () => caller.received.slice(start).find((x) => x.kind === 'mark'), 15_000, 20);
    const heard = await hear(caller.audioBetween(start, caller.received.indexOf(mark)), REPLIES);
    expect(heard).toBe("you're through to billing");
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await waitFor(async () => {
      const t = await turnsOf(sid);
      return t.some((x) => x.speaker === 'agent' && x.action === 'route') && t;
    }, 15_000);
    // Stored cut at the last mark that came back before the clear (marks of generation 1 = the greeting).
    const played = caller.echoed.filter((e) => e.at < clear.at && e.name.startsWith('a1.')).length;
    const sentences = ['Thanks for calling Acme.', 'I can help with billing, technical support or sales.', 'How can I help you today?'];
    const greeting = turns.find((t) => t.action === 'greeting')!;
    expect(played).toBeGreaterThanOrEqual(1);
    expect(greeting.interrupted).toBe(true);
    expect(greeting.text).toBe(sentences.slice(0, played).join(' '));
    const callerTurn = turns.find((t) => t.speaker === 'caller')!;
    expect(callerTurn.text).toMatch(/bill/);
    const events = await db.query('SELECT type FROM call_events WHERE "callSid" = $1', [sid]);
    expect(events.rows.map((e) => e.type)).toContain('barge_in');
    await waitFor(async () => (await r.keys(`call:{${sid}}:*`)).length === 0, 5000);
  }, 90_000);

  it('passes DTMF to the agent and transfers through the REST API', async () => {
    const sid = newCallSid();
    fakeApi.calls.set(sid, { status: 'in-progress', to: '+15005550001', from: '+15005550006' });
    const { token } = await answerCall(twilio, config, sid, 'stream');
    const caller = client();
    await caller.connect();
    caller.start(sid, config.TWILIO_ACCOUNT_SID, token);
    caller.startAudio();
    await waitFor(async () => caller.received.some((x) => x.kind === 'media'), 10_000, 20);
    caller.dtmf('0'); // "0 for a person": the agent transfers
    await waitFor(async () => caller.received.some((x) => x.kind === 'clear'), 5000, 10);
    const update = await waitFor(async () => fakeApi.requests.find((q) => q.path.endsWith(`/Calls/${sid}.json`)), 15_000);
    expect(update.authorized).toBe(true);
    expect(String(update.params.Twiml)).toContain('<Dial');
    expect(String(update.params.Twiml)).toContain('+15005550009');
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await waitFor(async () => {
      const t = await turnsOf(sid);
      return t.some((x) => x.action === 'transfer') && t;
    });
    expect(turns.find((t) => t.speaker === 'caller')).toMatchObject({ text: '[pressed 0]', action: 'dtmf' });
  }, 60_000);
});

describe('mode=stream, speculative turns (MEDIA_SPECULATIVE_MS, default 250 ms)', () => {
  /** The recording without the silence espeak-ng pads it with at the start or the end. */
  const trim = (mulaw: Buffer, end: 'start' | 'end') => {
    const loud = (i: number) => mulawLevelDb(mulaw.subarray(i, i + 160)) >= -45;
    if (end === 'end') {
      let e = mulaw.length - 160;
      while (e > 0 && !loud(e)) e -= 160;
      return mulaw.subarray(0, e + 160);
    }
    let s = 0;
    while (s < mulaw.length - 160 && !loud(s)) s += 160;
    return mulaw.subarray(s);
  };

  it('a pause mid-request prepares a turn that the caller going on throws away: one request stored, one answer, nothing early', async () => {
    const sid = newCallSid();
    const { token } = await answerCall(twilio, config, sid, 'stream');
    const caller = client();
    await caller.connect();
    // "I need help with … my bill": a 400 ms pause, past the speculation point (250 ms), short of the end of turn (600 ms).
    const [first, second] = await Promise.all([say('I need help with'), say('my bill')]);
    caller.start(sid, config.TWILIO_ACCOUNT_SID, token);
    caller.startAudio();
    await waitFor(async () => caller.echoed.filter((e) => e.name.startsWith('a1.')).length === 3, 20_000, 20); // the whole greeting
    const from = caller.received.length;
    await caller.say(Buffer.concat([trim(first, 'end'), Buffer.alloc(400 * 8, 0xff), trim(second, 'start')]));
    const speechEnd = performance.now();
    // Nothing of a prepared answer reached the caller before the request was over.
    const answer = await waitFor(async () => caller.received.slice(from).find((x) => x.kind === 'media'), 15_000, 20);
    expect(answer.at).toBeGreaterThan(speechEnd);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await waitFor(async () => {
      const t = await turnsOf(sid);
      return t.some((x) => x.speaker === 'agent' && x.action !== 'greeting') && t;
    }, 15_000);
    const callerTurns = turns.filter((t) => t.speaker === 'caller');
    expect(callerTurns).toHaveLength(1); // the request once, whole, not its first half
    expect(callerTurns[0].text).toMatch(/bill/);
    const answers = turns.filter((t) => t.speaker === 'agent' && t.action !== 'greeting');
    expect(answers).toHaveLength(1);
    // The end of turn committed the answer prepared during the final silence (the decoders were idle).
    const stored = await db.query(`SELECT data FROM turns WHERE "callSid" = $1 AND speaker = 'agent' AND action <> 'greeting'`, [sid]);
    expect(stored.rows[0].data).toMatchObject({ intent: 'billing', speculative: true });
  }, 60_000);
});

describe('mode=stream, the end of a call', () => {
  it('hangs up through the REST API after the goodbye has played, and cleans up', async () => {
    const sid = newCallSid();
    fakeApi.calls.set(sid, { status: 'in-progress', to: '+15005550001', from: '+15005550006' });
    const { token } = await answerCall(twilio, config, sid, 'stream');
    const caller = client();
    await caller.connect();
    const bye = await say('goodbye');
    caller.start(sid, config.TWILIO_ACCOUNT_SID, token);
    caller.startAudio();
    await waitFor(async () => caller.echoed.filter((e) => e.name.startsWith('a1.')).length === 3, 20_000, 20); // the whole greeting
    await caller.say(bye);
    const hangup = await waitFor(async () => fakeApi.requests.find((q) => q.path.endsWith(`/Calls/${sid}.json`)), 20_000);
    expect(hangup.params.Status).toBe('completed');
    // The hang-up came after the goodbye was heard: its marks were all echoed first.
    const answerMarks = caller.received.filter((x) => x.kind === 'mark' && !x.name.startsWith('a1.'));
    expect(answerMarks.length).toBeGreaterThan(0);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID); // what Twilio sends once the call ends
    const turns = await waitFor(async () => {
      const t = await turnsOf(sid);
      return t.some((x) => x.action === 'hangup') && t;
    }, 15_000);
    expect(turns.find((t) => t.action === 'hangup')).toMatchObject({ text: 'Thank you for calling. Goodbye!', interrupted: false });
    await waitFor(async () => (await r.keys(`*${sid}*`)).length === 0, 5000);
  }, 60_000);
});

describe('media socket security and robustness', () => {
  it('refuses unsigned and forged upgrades with 403 before the handshake', async () => {
    await expect(client({ signature: null }).connect()).rejects.toMatchObject({ status: 403 });
    await expect(client({ signature: 'bm90IGEgc2lnbmF0dXJl' }).connect()).rejects.toMatchObject({ status: 403 });
    await expect(client({ path: '/twilio/relay', signature: TwilioMediaClient.sign(config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL, '/twilio/media') }).connect()).rejects.toMatchObject({ status: 403 });
  });

  it('closes a stream whose start matches no signed call (wrong token, unknown SID)', async () => {
    const sid = newCallSid();
    await answerCall(twilio, config, sid, 'stream');
    for (const [callSid, token] of [[sid, 'wrong-token-wrong-token'], [newCallSid(), 'whatever-token-value']]) {
      const c = client();
      await c.connect();
      c.start(callSid, config.TWILIO_ACCOUNT_SID, token);
      await waitFor(async () => c.closed, 5000, 20);
      expect(c.closed!.code).toBe(1008);
    }
  });

  it('ignores malformed messages, closes after repeated abuse, and other calls carry on', async () => {
    const sid = newCallSid();
    const { token } = await answerCall(twilio, config, sid, 'stream');
    const good = client();
    await good.connect();
    good.start(sid, config.TWILIO_ACCOUNT_SID, token);
    await waitFor(async () => good.received.some((x) => x.kind === 'media'), 10_000, 20);

    const otherSid = newCallSid();
    const other = await answerCall(twilio, config, otherSid, 'stream');
    const bad = client();
    await bad.connect();
    bad.start(otherSid, config.TWILIO_ACCOUNT_SID, other.token);
    await sleep(300);
    bad.sendRaw('{not json');
    bad.sendRaw(JSON.stringify({ event: 'surprise' }));
    bad.send({ event: 'media', streamSid: 'MZ' + '0'.repeat(32), media: { payload: '/w==' } });
    bad.send({ event: 'media', streamSid: bad.streamSid, media: { payload: '%%%not-base64%%%' } });
    bad.send({ event: 'media', streamSid: bad.streamSid, media: { payload: 'A'.repeat(12_000) } });
    bad.sendRaw(Buffer.alloc(20_000, 0x41));
    await sleep(300);
    expect(bad.closed).toBeUndefined(); // ignored, not fatal
    for (let i = 0; i < config.MEDIA_MAX_INVALID_MESSAGES; i++) bad.sendRaw('[]');
    await waitFor(async () => bad.closed, 5000, 20);
    expect(bad.closed!.code).toBe(1008);

    // The healthy call is untouched: it still streams, and the api still answers.
    const before = good.received.length;
    await waitFor(async () => good.received.length > before, 5000, 20);
    expect(good.closed).toBeUndefined();
    expect((await fetch(`${api.url}/health`)).status).toBeLessThan(500);
    good.close();
  }, 60_000);

  it('a frame over the socket\'s maxPayload (64 KB) closes that socket with 1009', async () => {
    const big = client();
    await big.connect();
    big.sendRaw(Buffer.alloc(70_000, 0x41));
    await waitFor(async () => big.closed, 5000, 20);
    expect(big.closed!.code).toBe(1009);
  }, 30_000);

  it('a second socket for the same call replaces the first', async () => {
    const sid = newCallSid();
    const { token } = await answerCall(twilio, config, sid, 'stream');
    const first = client();
    await first.connect();
    first.start(sid, config.TWILIO_ACCOUNT_SID, token);
    await waitFor(async () => first.received.some((x) => x.kind === 'media'), 10_000, 20);
    const second = client();
    await second.connect();
    second.start(sid, config.TWILIO_ACCOUNT_SID, token);
    await waitFor(async () => first.closed, 5000, 20);
    expect(first.closed!.code).toBe(1000);
    // The new socket serves the call: DTMF gets an answer on it.
    second.startAudio();
    second.dtmf('1');
    await waitFor(async () => second.received.some((x) => x.kind === 'media'), 15_000, 20);
    expect(second.closed).toBeUndefined();
    second.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await waitFor(async () => {
      const t = await turnsOf(sid);
      return t.some((x) => x.action === 'route') && t;
    }, 15_000);
    expect(turns.find((t) => t.action === 'greeting')?.interrupted).toBe(true);
  }, 60_000);
});
