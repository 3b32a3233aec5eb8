import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeTwilio, callParams, newCallSid, sayText, startSystem, testConfig, twimlUrl, waitFor, type System } from './support/harness.js';

const config = testConfig({ HUMAN_TRANSFER_NUMBER: '+15005550009' });
let system: System;

beforeAll(async () => {
  system = await startSystem(config);
});

afterAll(async () => {
  await system?.close();
});

beforeEach(async () => {
  await system.db.query('TRUNCATE calls, turns, call_events RESTART IDENTITY CASCADE');
});

describe('a whole signed speech call', () => {
  it('greets, routes, answers the FAQ, hangs up, and stores the ordered transcript', async () => {
    const sid = newCallSid();
    const base = callParams(sid, config);

    const greeting = await system.twilio.post('/twilio/voice', base);
    expect(greeting.status).toBe(200);
    expect(greeting.contentType).toMatch(/^text\/xml/);
    expect(greeting.body).toContain('<Gather input="speech dtmf"');
    expect(greeting.body).toContain('speechTimeout="auto"');
    expect(greeting.body).toContain('actionOnEmptyResult="true"');
    expect(greeting.body).toMatch(/<\/Gather><Redirect method="POST">https:\/\/voice\.example\.test\/twilio\/gather\?step=1<\/Redirect>/);
    expect(sayText(greeting.body)[0]).toMatch(/Thanks for calling/);

    let action = twimlUrl(greeting.body, 'Gather')!;
    expect(action).toBe('https://voice.example.test/twilio/gather?step=1');

    const billing = await system.twilio.post(FakeTwilio.pathOf(action), { ...base, SpeechResult: 'I need help with my bill', Confidence: '0.92' });
    expect(billing.status).toBe(200);
    expect(sayText(billing.body)[0]).toMatch(/billing/i);
    action = twimlUrl(billing.body, 'Gather')!;
    expect(action).toMatch(/step=2$/);

    const faq = await system.twilio.post(FakeTwilio.pathOf(action), { ...base, SpeechResult: 'What are your opening hours?', Confidence: '0.88' });
    expect(sayText(faq.body)[0]).toMatch(/Monday to Friday/);
    action = twimlUrl(faq.body, 'Gather')!;

    const bye = await system.twilio.post(FakeTwilio.pathOf(action), { ...base, SpeechResult: 'No thanks, goodbye', Confidence: '0.9' });
    expect(bye.body).toMatch(/<Say[^>]*>Thank you for calling\. Goodbye!<\/Say><Hangup\/>/);

    const done = await system.twilio.post('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '42', SequenceNumber: '3' });
    expect(done.status).toBe(204);

    const turns = await waitFor(async () => {
      const rows = await system.turnsOf(sid);
      return rows.length >= 10 && rows;
    });
    expect(turns.map((t) => t.seq)).toEqual(turns.map((_, i) => i + 1));
    expect(turns.map((t) => `${t.speaker}:${t.action ?? ''}`)).toEqual([
      'agent:greeting',
      'caller:',
      'tool:route_department',
      'agent:route',
      'caller:',
      'tool:lookup_faq',
      'agent:say',
      'caller:',
      'tool:end_call',
      'agent:hangup',
    ]);
    expect(turns[1]).toMatchObject({ text: 'I need help with my bill' });
    expect(turns[1].confidence).toBeCloseTo(0.92);
    expect(turns[3].latencyMs).toBeGreaterThanOrEqual(0);

    const call = await waitFor(async () => {
      const { rows } = await system.db.query('SELECT * FROM calls WHERE "callSid" = $1', [sid]);
      return rows[0]?.status === 'completed' && rows[0];
    });
    expect(call).toMatchObject({ status: 'completed', durationSec: 42, direction: 'inbound', mode: 'gather', fromNumber: '+15005550006' });
    expect(call.endedAt).toBeInstanceOf(Date);

    const summarized = await waitFor(async () => {
      const { rows } = await system.db.query('SELECT disposition, intent, summary FROM calls WHERE "callSid" = $1', [sid]);
      return rows[0]?.disposition && rows[0];
    });
    expect(summarized).toMatchObject({ disposition: 'resolved', intent: 'billing' });

    const keys = await system.redis.keys(`*${sid}*`);
    expect(keys).toEqual([]);
  });

  it('transfers to a person with <Dial>', async () => {
    const sid = newCallSid();
    const base = callParams(sid, config);
    await system.twilio.post('/twilio/voice', base);
    const res = await system.twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'Can I talk to a real person please', Confidence: '0.9' });
    expect(res.body).toMatch(/<Dial[^>]*><Number>\+15005550009<\/Number><\/Dial><Hangup\/>/);
    const rows = await waitFor(async () => {
      const t = await system.turnsOf(sid);
      return t.some((x) => x.action === 'transfer') && t;
    });
    expect(rows.at(-1)).toMatchObject({ speaker: 'agent', action: 'transfer' });
  });
});
