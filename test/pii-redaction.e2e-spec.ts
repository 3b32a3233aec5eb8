import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TwilioRelayClient } from '../scripts/call/relay-client.js';
import { FakeTwilio, callParams, newCallSid, startSystem, testConfig, twimlUrl, waitFor, type System } from './support/harness.js';
import { answerCall } from './support/media.js';

/** The default agents plus a payments line whose card department asks for the card number by keypad. */
function agentsFile(): string {
  const agents = JSON.parse(readFileSync('config/agents.json', 'utf8'));
  agents.agents.push({
    ...agents.agents[0],
    name: 'payments',
    greeting: 'Acme payments. Say pay by card to make a payment.',
    departments: [
      {
        name: 'cardpay',
        digit: '1',
        description: 'card payments',
        keywords: ['card', 'pay'],
        welcome: 'Please enter your card number on the keypad, then press pound.',
        secureInput: true,
      },
    ],
    faq: [],
  });
  const path = join(mkdtempSync(join(tmpdir(), 'agents-')), 'agents.json');
  writeFileSync(path, JSON.stringify(agents));
  return path;
}

const config = testConfig({ REDACT_PII: 'true', REDACT_PII_TYPES: 'card,ssn,email,phone', AGENTS_FILE: agentsFile() });
let system: System;

beforeAll(async () => {
  system = await startSystem(config);
}, 60_000);

afterAll(async () => {
  await system?.close();
});

/** Every value of every key of the test Redis db (sessions, replies, BullMQ job payloads …), as one string. */
async function redisDump(): Promise<string> {
  const r = system.redis;
  const out: string[] = [];
  for (const key of await r.keys('*')) {
    const type = await r.type(key);
    if (type === 'string') out.push((await r.get(key)) ?? '');
    else if (type === 'hash') out.push(JSON.stringify(await r.hgetall(key)));
    else if (type === 'list') out.push(JSON.stringify(await r.lrange(key, 0, -1)));
    else if (type === 'zset') out.push(JSON.stringify(await r.zrange(key, 0, -1)));
    else if (type === 'set') out.push(JSON.stringify(await r.smembers(key)));
    else if (type === 'stream') out.push(JSON.stringify(await r.xrange(key, '-', '+')));
  }
  return out.join('\n');
}

async function postgresDump(callSid: string): Promise<string> {
  const { rows: turns } = await system.db.query('SELECT text, data FROM turns WHERE "callSid" = $1', [callSid]);
  const { rows: events } = await system.db.query('SELECT data FROM call_events WHERE "callSid" = $1', [callSid]);
  return JSON.stringify([turns, events]);
}

const SECRETS = /4111|1111 1111|one one one one|jane|doe at|555.?123.?4567|five five five|123-45-6789/i;

describe('PII redaction before storage', () => {
  it('gather: a spoken card number, e-mail address and phone number never reach Redis or Postgres', async () => {
    const sid = newCallSid();
    const base = callParams(sid, config);
    const greeting = await system.twilio.post('/twilio/voice', base);
    const said = 'my card is four one one one, one one one one, one one one one, one one one one and my email is jane dot doe at example dot com, call me on 555-123-4567';
    const turn = await system.twilio.post(FakeTwilio.pathOf(twimlUrl(greeting.body, 'Gather')!), { ...base, SpeechResult: said, Confidence: '0.9' });
    expect(turn.status).toBe(200);

    const caller = await waitFor(async () => (await system.turnsOf(sid)).find((t) => t.speaker === 'caller'));
    expect(caller.text).toBe('my card is [card] and my email is [email], call me on [phone]');
    const { rows } = await system.db.query('SELECT redactions FROM turns WHERE "callSid" = $1 AND speaker = $2', [sid, 'caller']);
    expect(rows[0].redactions).toEqual(['email', 'card', 'phone']);
    // The agent's job (its prompt), the session history and every queued write: redacted too.
    const dump = await redisDump();
    expect(dump).toContain('my card is [card]');
    expect(dump).not.toMatch(SECRETS);
    expect(await postgresDump(sid)).not.toMatch(SECRETS);

    // A low-confidence result is stored as an event with its text: redacted as well.
    const step2 = twimlUrl(turn.body, 'Gather')!;
    await system.twilio.post(FakeTwilio.pathOf(step2), { ...base, SpeechResult: 'my social is 123-45-6789', Confidence: '0.2' });
    const miss = await waitFor(async () => {
      const { rows: ev } = await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'low_confidence'`, [sid]);
      return ev[0];
    });
    expect(miss.data.text).toBe('my social is [ssn]');
    expect(await postgresDump(sid)).not.toMatch(SECRETS);
  });

  it('gather: keypad input during a secure step of the agent is never stored, queued or given to the agent', async () => {
    const sid = newCallSid();
    const base = callParams(sid, config);
    const greeting = await system.twilio.post('/twilio/voice?agent=payments', base);
    const routed = await system.twilio.post(FakeTwilio.pathOf(twimlUrl(greeting.body, 'Gather')!), { ...base, SpeechResult: 'I want to pay by card', Confidence: '0.9' });
    expect(routed.body).toContain('Please enter your card number on the keypad');

    const turn = await system.twilio.post(FakeTwilio.pathOf(twimlUrl(routed.body, 'Gather')!), { ...base, Digits: '4012888888881881' });
    expect(turn.status).toBe(200);
    expect(turn.body).toContain("Thank you, I've got that.");
    const caller = await waitFor(async () => (await system.turnsOf(sid)).filter((t) => t.speaker === 'caller')[1]);
    expect(caller).toMatchObject({ text: '[secure input]', action: 'dtmf' });
    const dtmf = await waitFor(async () => (await system.db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'dtmf'`, [sid])).rows[0]);
    expect(dtmf.data).toEqual({ secure: true });
    expect(await postgresDump(sid)).not.toMatch(/4012|8888|1881/);
    expect(await redisDump()).not.toMatch(/4012888888881881|88888/);

    // The step is over: the next keypad input is an ordinary menu choice again.
    const next = await system.twilio.post(FakeTwilio.pathOf(twimlUrl(turn.body, 'Gather')!), { ...base, Digits: '1' });
    expect(next.status).toBe(200);
    const third = await waitFor(async () => (await system.turnsOf(sid)).filter((t) => t.speaker === 'caller')[2]);
    expect(third).toMatchObject({ text: '[pressed 1]', action: 'dtmf' });
  });

  it('relay: a recognised prompt is redacted before the transcript and the model', async () => {
    const sid = newCallSid();
    const { token } = await answerCall(system.twilio, config, sid, 'relay');
    const relay = new TwilioRelayClient({ apiUrl: system.api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN });
    await relay.connect();
    try {
      relay.setup(sid, config.TWILIO_ACCOUNT_SID, token);
      relay.prompt('you can reach me at jane.doe@example.com or five five five one two three four five six seven');
      await relay.answer(0);
      const caller = await waitFor(async () => (await system.turnsOf(sid)).find((t) => t.speaker === 'caller'));
      expect(caller.text).toBe('you can reach me at [email] or [phone]');
      expect(await redisDump()).not.toMatch(SECRETS);
    } finally {
      relay.close();
    }
  });
});
