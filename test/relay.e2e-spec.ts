import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { TwilioRelayClient } from '../scripts/call/relay-client.js';
import { FakeTwilio, callParams, newCallSid, startSystem, testConfig, waitFor, type Running, type System } from './support/harness.js';
import { answerCall } from './support/media.js';

const config = testConfig({ HUMAN_TRANSFER_NUMBER: '+15005550009' });
let system: System;
let api: Running;
let twilio: FakeTwilio;
let db: pg.Pool;
let r: Redis;

beforeAll(async () => {
  system = await startSystem(config);
  ({ api, twilio, db, redis: r } = system);
}, 60_000);

afterAll(async () => {
  await system?.close();
});

const relayClient = (signature?: string | null) =>
  new TwilioRelayClient({ apiUrl: api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN, signature });

const turnsOf = (callSid: string) => system.turnsOf(callSid);

describe('mode=relay', () => {
  it('answers with <Connect action><ConversationRelay> carrying the agent voice, greeting and token', async () => {
    const { res, token } = await answerCall(twilio, config, newCallSid(), 'relay');
    expect(res.body).toContain('<Connect action="https://voice.example.test/twilio/relay/action" method="POST">');
    expect(res.body).toMatch(/<ConversationRelay url="wss:\/\/voice\.example\.test\/twilio\/relay" welcomeGreeting="Thanks for calling Acme\.[^"]*"/);
    expect(res.body).toContain('interruptible="any"');
    expect(res.body).toContain('language="en-US"');
    expect(res.body).toContain('ttsProvider="Amazon" voice="Joanna"');
    expect(token).toBeTruthy();
  });

  it('streams answers, cuts an interrupted answer to what was heard, takes DTMF, and ends with a handoff', async () => {
    const sid = newCallSid();
    const { token } = await answerCall(twilio, config, sid, 'relay');
    const relay = relayClient();
    await relay.connect();
    relay.setup(sid, config.TWILIO_ACCOUNT_SID, token);

    relay.prompt('I need help with my bill');
    let answer = await relay.answer(0);
    expect(answer.text).toMatch(/billing/i);

    relay.prompt('What are your opening hours?');
    answer = await relay.answer(answer.end);
    expect(answer.text).toMatch(/Monday to Friday/);
    relay.send({ type: 'interrupt', utteranceUntilInterrupt: "We're open Monday to Friday", durationUntilInterruptMs: 1400 });

    relay.send({ type: 'dtmf', digit: '3' });
    answer = await relay.answer(answer.end);
    expect(answer.text).toMatch(/sales/i);

    relay.prompt('Can I talk to a real person please');
    await waitFor(async () => relay.received.find((m) => m.type === 'end'));
    const end = relay.received.find((m) => m.type === 'end')!;
    expect(JSON.parse(end.handoffData!)).toEqual({ reason: 'transfer', transferTo: '+15005550009' });

    // Twilio ends the session and calls the <Connect action> with our handoff data.
    const action = await twilio.post('/twilio/relay/action', { ...callParams(sid, config), SessionStatus: 'ended', HandoffData: end.handoffData! });
    expect(action.status).toBe(200);
    expect(action.body).toMatch(/<Dial[^>]*><Number>\+15005550009<\/Number><\/Dial>/);
    relay.close();

    const turns = await waitFor(async () => {
      const t = await turnsOf(sid);
      return t.filter((x) => x.speaker === 'agent').length >= 5 && t;
    });
    const faq = turns.find((t) => t.speaker === 'agent' && t.interrupted)!;
    expect(faq.text).toBe("We're open Monday to Friday");
    expect(turns.map((t) => `${t.speaker}:${t.action ?? ''}`)).toEqual(expect.arrayContaining(['agent:greeting', 'caller:dtmf', 'agent:route', 'agent:transfer']));
    await waitFor(async () => (await r.keys(`call:{${sid}}:*`)).length === 0, 5000);
  }, 60_000);

  it('offers a fresh relay after a dropped socket, and hangs up on a hang-up handoff', async () => {
    const sid = newCallSid();
    await answerCall(twilio, config, sid, 'relay');
    const dropped = await twilio.post('/twilio/relay/action', { ...callParams(sid, config), SessionStatus: 'failed' });
    expect(dropped.body).toContain('<ConversationRelay url="wss://voice.example.test/twilio/relay"');
    expect(dropped.body).not.toContain('welcomeGreeting');
    const bye = await twilio.post('/twilio/relay/action', { ...callParams(sid, config), HandoffData: JSON.stringify({ reason: 'hangup' }) });
    expect(bye.body).toContain('<Hangup/>');
    const unsigned = await twilio.post('/twilio/relay/action', callParams(sid, config), { signature: 'forged' });
    expect(unsigned.status).toBe(403);
  });

  it('refuses unsigned upgrades and setups that match no signed relay call', async () => {
    await expect(relayClient(null).connect()).rejects.toMatchObject({ status: 403 });
    const sid = newCallSid();
    await answerCall(twilio, config, sid, 'stream'); // a stream call's token is no relay token
    const relay = relayClient();
    await relay.connect();
    relay.send({ type: 'prompt', voicePrompt: 'before setup', last: true });
    relay.send({ type: 'nonsense' });
    relay.setup(sid, config.TWILIO_ACCOUNT_SID, 'not-the-token-at-all');
    await waitFor(async () => relay.closed, 5000);
    expect(relay.closed!.code).toBe(1008);
  });
});
