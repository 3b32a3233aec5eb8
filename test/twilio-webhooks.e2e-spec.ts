import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { bullConnectionOptions } from '#libs/redis';
import { signTwilioRequest } from '#libs/telephony';
import { FakeTwilio, callParams, newCallSid, sayText, startSystem, testConfig, twimlUrl, waitFor, type Running, type System } from './support/harness.js';

const config = testConfig();
let system: System;
let api: Running;
let twilio: FakeTwilio;
let db: pg.Pool;
let r: Redis;

beforeAll(async () => {
  system = await startSystem(config);
  ({ api, twilio, db, redis: r } = system);
});

afterAll(async () => {
  await system?.close();
});

const count = async (sql: string, ...args: unknown[]) => (await db.query(sql, args)).rows[0].n as number;

/** Nothing at all of the call exists: no Redis key, no row, no job. */
async function expectNoTrace(sid: string) {
  await new Promise((res) => setTimeout(res, 300));
  expect(await r.keys(`*${sid}*`)).toEqual([]);
  expect(await count('SELECT count(*)::int AS n FROM calls WHERE "callSid" = $1', sid)).toBe(0);
  expect(await count('SELECT count(*)::int AS n FROM turns WHERE "callSid" = $1', sid)).toBe(0);
}

describe('X-Twilio-Signature', () => {
  it('rejects missing, forged, tampered, other-path and other-host signatures with 403 and no side effect', async () => {
    const sid = newCallSid();
    const params = callParams(sid, config);
    const other = { ...config, TWILIO_AUTH_TOKEN: 'another-token-0123456789abcdef' };
    const cases: [string, Parameters<FakeTwilio['post']>][] = [
      ['missing', ['/twilio/voice', params, { signature: null }]],
      ['empty', ['/twilio/voice', params, { signature: '' }]],
      ['wrong token', ['/twilio/voice', params, { signature: new FakeTwilio(api.url, other).sign('/twilio/voice', params) }]],
      ['tampered parameter', ['/twilio/voice', { ...params, From: '+15005550999' }, { signature: twilio.sign('/twilio/voice', params) }]],
      ['added parameter', ['/twilio/voice', { ...params, Extra: '1' }, { signature: twilio.sign('/twilio/voice', params) }]],
      ['signature of another path', ['/twilio/voice', params, { signature: twilio.sign('/twilio/status', params) }]],
      ['signature of another query', ['/twilio/voice?mode=gather', params, { signature: twilio.sign('/twilio/voice', params) }]],
      // An old signature replayed with new parameters: Twilio signatures carry no timestamp, so
      // staleness shows up as parameters that no longer match.
      ['stale signature', ['/twilio/voice', { ...params, CallStatus: 'ringing' }, { signature: twilio.sign('/twilio/voice', { ...params, CallStatus: 'queued' }) }]],
      [
        'signed for the Host header',
        ['/twilio/voice', params, {
          signature: signTwilioRequest(config.TWILIO_AUTH_TOKEN, 'https://attacker.example/twilio/voice', params),
          headers: { host: 'attacker.example', 'x-forwarded-host': 'attacker.example', 'x-forwarded-proto': 'https' },
        }],
      ],
      ['garbage', ['/twilio/voice', params, { signature: 'x'.repeat(5000) }]],
    ];
    for (const [name, args] of cases) {
      const res = await twilio.post(...args);
      expect([name, res.status]).toEqual([name, 403]);
      expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
    }
    await expectNoTrace(sid);
  });

  it('accepts the port variants Twilio is known to sign', async () => {
    const sid = newCallSid();
    const params = callParams(sid, config);
    const withPort = signTwilioRequest(config.TWILIO_AUTH_TOKEN, 'https://voice.example.test:443/twilio/voice', params);
    const res = await twilio.post('/twilio/voice', params, { signature: withPort });
    expect(res.status).toBe(200);
  });

  it('checks every /twilio route, the status callback too', async () => {
    const sid = newCallSid();
    const params = callParams(sid, config, { CallStatus: 'completed' });
    for (const path of ['/twilio/gather?step=1', '/twilio/gather/wait?step=1&n=1', '/twilio/status']) {
      expect((await twilio.post(path, params, { signature: null })).status).toBe(403);
    }
    await expectNoTrace(sid);
  });
});

describe('bad input', () => {
  it('answers 4xx without a stack trace and keeps serving', async () => {
    const sid = newCallSid();
    const params = callParams(sid, config);
    const json = await twilio.post('/twilio/voice', params, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
    expect(json.status).toBe(415);
    const big = { ...params, Junk: 'x'.repeat(20_000) };
    expect((await twilio.post('/twilio/voice', big)).status).toBe(413);
    const badSid = { ...params, CallSid: 'CA-not-a-sid' };
    const bad = await twilio.post('/twilio/voice', badSid);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/CallSid/);
    expect((await twilio.post('/twilio/gather?step=abc', params)).status).toBe(400);
    expect((await twilio.post('/twilio/gather', params)).status).toBe(400);
    const malformed = await twilio.post('/twilio/voice', params, { body: '%E0%A4%A=1&&&=', signature: 'x' });
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(malformed.status).toBeLessThan(500);
    for (const res of [json, bad, malformed]) expect(res.body).not.toMatch(/\n\s+at /);
    // Still serving.
    expect((await twilio.post('/twilio/voice', params)).status).toBe(200);
  });
});

describe('the conversation', () => {
  async function start() {
    const sid = newCallSid();
    const base = callParams(sid, config);
    await twilio.post('/twilio/voice', base);
    return { sid, base };
  }

  it('reprompts on low confidence and on empty speech, and says goodbye after three misses', async () => {
    const { sid, base } = await start();
    const low = await twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'bill', Confidence: '0.31' });
    expect(sayText(low.body)[0]).toMatch(/didn't catch that/);
    expect(twimlUrl(low.body, 'Gather')).toMatch(/step=2$/);
    const empty = await twilio.post('/twilio/gather?step=2', base);
    expect(sayText(empty.body)[0]).toMatch(/didn't catch that/);
    const third = await twilio.post('/twilio/gather?step=3', { ...base, SpeechResult: '', Confidence: '0' });
    expect(third.body).toMatch(/Goodbye\.<\/Say><Hangup\/>/);
    const events = await waitFor(async () => {
      const { rows } = await db.query('SELECT type FROM call_events WHERE "callSid" = $1 AND type <> $2 ORDER BY "createdAt", id', [sid, 'status']);
      return rows.length === 3 && rows.map((e) => e.type);
    });
    expect(events).toEqual(['low_confidence', 'no_input', 'no_input']);
  });

  it('a usable answer resets the miss counter', async () => {
    const { base } = await start();
    await twilio.post('/twilio/gather?step=1', base);
    await twilio.post('/twilio/gather?step=2', base);
    const ok = await twilio.post('/twilio/gather?step=3', { ...base, SpeechResult: 'support please', Confidence: '0.9' });
    expect(sayText(ok.body)[0]).toMatch(/support/i);
    const miss = await twilio.post('/twilio/gather?step=4', base);
    expect(miss.body).not.toContain('<Hangup/>');
  });

  it('a duplicate webhook gets the same TwiML and stores nothing twice', async () => {
    const { sid, base } = await start();
    const params = { ...base, SpeechResult: 'I want to buy a new plan', Confidence: '0.9' };
    const first = await twilio.post('/twilio/gather?step=1', params);
    const again = await twilio.post('/twilio/gather?step=1', params);
    expect(again.body).toBe(first.body);
    await new Promise((res) => setTimeout(res, 500));
    const rows = (await db.query('SELECT seq, speaker FROM turns WHERE "callSid" = $1 ORDER BY seq', [sid])).rows;
    expect(rows.map((t) => t.speaker)).toEqual(['agent', 'caller', 'tool', 'agent']);
  });

  it('serialises concurrent webhooks of one call', async () => {
    const { sid, base } = await start();
    const params = { ...base, SpeechResult: 'billing', Confidence: '0.9' };
    const replies = await Promise.all([1, 2, 3, 4].map(() => twilio.post('/twilio/gather?step=1', params)));
    expect(new Set(replies.map((x) => x.body)).size).toBe(1);
    const next = await Promise.all([
      twilio.post('/twilio/gather?step=2', { ...base, SpeechResult: 'what are your hours', Confidence: '0.9' }),
      twilio.post('/twilio/gather?step=2', { ...base, SpeechResult: 'what are your hours', Confidence: '0.9' }),
    ]);
    expect(next[0].body).toBe(next[1].body);
    await new Promise((res) => setTimeout(res, 500));
    const rows = (await db.query('SELECT seq, speaker FROM turns WHERE "callSid" = $1 ORDER BY seq', [sid])).rows;
    expect(rows.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(rows.filter((t) => t.speaker === 'caller')).toHaveLength(2);
  });

  it('handles DTMF as agent input', async () => {
    const { base } = await start();
    const res = await twilio.post('/twilio/gather?step=1', { ...base, Digits: '3' });
    expect(sayText(res.body)[0]).toMatch(/sales/i);
  });

  it('understands corrections', async () => {
    const { base } = await start();
    const res = await twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'Billing... wait, no, sales', Confidence: '0.9' });
    expect(sayText(res.body)[0]).toMatch(/sales/i);
  });
});

describe('status callbacks', () => {
  it('apply in order whatever order they arrive in, once, and clean every Redis key', async () => {
    const sid = newCallSid();
    const base = callParams(sid, config);
    await twilio.post('/twilio/voice', base);
    expect((await r.keys(`*${sid}*`)).length).toBeGreaterThan(0);
    const completed = { ...base, CallStatus: 'completed', CallDuration: '17', SequenceNumber: '3' };
    await twilio.post('/twilio/status', completed);
    await twilio.post('/twilio/status', { ...base, CallStatus: 'ringing', SequenceNumber: '1' });
    await twilio.post('/twilio/status', completed);
    await twilio.post('/twilio/status', { ...base, CallStatus: 'in-progress', SequenceNumber: '2' });
    const call = await waitFor(async () => {
      const { rows } = await db.query('SELECT status, "durationSec", "endedAt" FROM calls WHERE "callSid" = $1', [sid]);
      return rows[0]?.status === 'completed' && rows[0];
    });
    await new Promise((res) => setTimeout(res, 500));
    expect((await db.query('SELECT status FROM calls WHERE "callSid" = $1', [sid])).rows[0].status).toBe('completed');
    expect(call.durationSec).toBe(17);
    expect(await count(`SELECT count(*)::int AS n FROM call_events WHERE "callSid" = $1 AND "dedupeKey" LIKE 'status-completed%'`, sid)).toBe(1);
    // The live state is gone at once; the post-call job (delayed 2 s) removes itself when done.
    expect((await r.keys(`*${sid}*`)).filter((k) => !k.includes('postcall'))).toEqual([]);
    await waitFor(async () => (await r.keys(`*${sid}*`)).length === 0, 8000);
  });

  it('marks calls whose callbacks never came as abandoned', async () => {
    const sid = newCallSid();
    await db.query(
      `INSERT INTO calls (id, "callSid", status, "startedAt", "updatedAt") VALUES (gen_random_uuid(), $1, 'in-progress', now() - interval '1 day', now() - interval '1 day')`,
      [sid],
    );
    const queue = new Queue('call-lifecycle', { connection: bullConnectionOptions(config.REDIS_URL), prefix: 'sb' });
    await queue.add('sweep-abandoned', { kind: 'sweep-abandoned' });
    const call = await waitFor(async () => {
      const { rows } = await db.query('SELECT status, disposition FROM calls WHERE "callSid" = $1', [sid]);
      return rows[0]?.status === 'abandoned' && rows[0];
    });
    expect(call.disposition).toBe('abandoned');
    await queue.close();
  });
});
