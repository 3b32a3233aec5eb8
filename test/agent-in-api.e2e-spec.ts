import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { RedisKeys } from '#libs/redis';
import {
  FakeTwilio, callParams, database, newCallSid, redis as redisClient, resetState, sayText, startApi, startWorker, testConfig, twimlUrl, waitFor, type Running,
} from './support/harness.js';
import { TwilioMediaClient } from '../scripts/call/media-client.js';
import { answerCall, say } from './support/media.js';

// AGENT_LOCAL_IN_API: the built-in agent answers inside the api, with no worker running at all;
// the transcript waits on the stream until a worker comes and stores it in order.
const config = testConfig({ AGENT_LOCAL_IN_API: 'true', TURN_WAIT_MS: '300' });
let api: Running;
let worker: Running | undefined;
let twilio: FakeTwilio;
let db: pg.Pool;
let r: Redis;

beforeAll(async () => {
  await resetState();
  api = await startApi(config);
  twilio = new FakeTwilio(api.url, config);
  db = database();
  r = redisClient(config.REDIS_URL);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await worker?.close();
  await db?.end();
  r?.disconnect();
});

describe('the built-in agent in the api (AGENT_LOCAL_IN_API=true)', () => {
  it('answers without a worker, and the transcript is stored once a worker drains the stream', async () => {
    const sid = newCallSid();
    const base = callParams(sid, config);
    const voice = await twilio.post('/twilio/voice', base);
    const res = await twilio.post(FakeTwilio.pathOf(twimlUrl(voice.body, 'Gather')!), { ...base, SpeechResult: 'I need help with my bill', Confidence: '0.93' });
    expect(res.status).toBe(200);
    const answer = sayText(res.body).join(' ');
    expect(answer).toMatch(/billing/i);
    expect(answer).not.toMatch(/one moment|sorry/i);
    expect(await r.xlen(RedisKeys.transcriptStream())).toBe(2);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM turns');
    expect(rows[0].n).toBe(0);

    worker = await startWorker(config);
    const turns = await waitFor(async () => {
      const { rows: stored } = await db.query('SELECT seq, speaker, text FROM turns WHERE "callSid" = $1 ORDER BY seq', [sid]);
      return stored.some((t) => t.text === sayText(res.body)[0]) && stored;
    }, 15_000);
    expect(turns.map((t: { seq: number }) => t.seq)).toEqual(turns.map((_: unknown, i: number) => i + 1));
    expect(turns[0].speaker).toBe('agent');
    expect(turns[1]).toMatchObject({ speaker: 'caller', text: 'I need help with my bill' });
    expect(turns.at(-1)).toMatchObject({ speaker: 'agent', text: sayText(res.body)[0] });
  }, 60_000);
});

describe('the built-in agent in the api, stream mode', () => {
  it('answers a spoken stream turn in the api: no agent-turn job is queued', async () => {
    const sid = newCallSid();
    const jobsBefore = Number((await r.get('sb:agent-turns:id')) ?? 0);
    const { token } = await answerCall(twilio, config, sid, 'stream');
    const caller = new TwilioMediaClient({ apiUrl: api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN });
    await caller.connect();
    const request = await say('I need help with my bill');
    caller.start(sid, config.TWILIO_ACCOUNT_SID, token);
    caller.startAudio();
    await waitFor(async () => caller.echoed.filter((e) => e.name.startsWith('a1.')).length === 3, 20_000, 20); // the whole greeting
    const from = caller.received.length;
    await caller.say(request);
    const spoken = performance.now();
    const answer = await waitFor(async () => caller.received.slice(from).find((x) => x.kind === 'media'), 15_000, 20);
    expect(answer.at).toBeGreaterThan(spoken);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await waitFor(async () => {
      const { rows } = await db.query(`SELECT speaker, action, data FROM turns WHERE "callSid" = $1 ORDER BY seq`, [sid]);
      return rows.some((t) => t.speaker === 'agent' && t.action === 'route') && rows;
    }, 15_000);
    expect(turns.find((t: { action: string }) => t.action === 'route').data).toMatchObject({ intent: 'billing' });
    expect(Number((await r.get('sb:agent-turns:id')) ?? 0)).toBe(jobsBefore);
    caller.close();
  }, 60_000);
});
