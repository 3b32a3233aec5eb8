import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisKeys } from '#libs/redis';
import { callParams, FakeTwilio, newCallSid, redis, resetState, startApi, testConfig, type Running } from './support/harness.js';
import { AdminClient } from './support/admin-fixtures.js';

const config = testConfig({ ADMIN_RATE_LIMIT: '1000000' });
let api: Running;
let r: Redis;
let twilio: FakeTwilio;
let admin: AdminClient;

beforeAll(async () => {
  await resetState();
  api = await startApi(config);
  r = redis();
  twilio = new FakeTwilio(api.url, config);
  admin = new AdminClient(api.url, config.ADMIN_API_KEY);
});

afterAll(async () => {
  await api?.close();
  r?.disconnect();
});

describe('GET /admin/live', () => {
  it('lists calls in progress from their Redis sessions until they end', async () => {
    const sid = newCallSid();
    const params = callParams(sid, config, { From: '+15005550123', To: '+15005550999' });
    const answered = await twilio.post('/twilio/voice?mode=gather', params);
    expect(answered.status).toBe(200);

    const res = await admin.get('/admin/live');
    expect(res.status).toBe(200);
    const live = res.json.items.find((c: any) => c.callSid === sid);
    expect(live).toMatchObject({ mode: 'gather', direction: 'inbound', fromNumber: '+15005550123', toNumber: '+15005550999', turns: 1, callerTurns: 0 });
    expect(live.durationSec).toBeGreaterThanOrEqual(0);
    expect(live.durationSec).toBeLessThan(10);

    // The session's start is what "duration so far" counts from.
    const session = JSON.parse((await r.get(RedisKeys.session(sid)))!);
    session.startedAt = new Date(Date.now() - 95_000).toISOString();
    await r.set(RedisKeys.session(sid), JSON.stringify(session), 'KEEPTTL');
    const later = (await admin.get('/admin/live')).json.items.find((c: any) => c.callSid === sid);
    expect(later.durationSec).toBeGreaterThanOrEqual(95);

    const ended = await twilio.post('/twilio/status', { ...params, CallStatus: 'completed', CallDuration: '5', SequenceNumber: '4' });
    expect(ended.status).toBe(204);
    expect((await admin.get('/admin/live')).json.items.map((c: any) => c.callSid)).not.toContain(sid);
    expect(await r.zscore(RedisKeys.liveCalls(), sid)).toBeNull();
  });

  it('prunes calls whose session expired without a final callback', async () => {
    const ghost = newCallSid();
    await r.zadd(RedisKeys.liveCalls(), Date.now(), ghost);
    const res = await admin.get('/admin/live');
    expect(res.json.items.map((c: any) => c.callSid)).not.toContain(ghost);
    expect(await r.zscore(RedisKeys.liveCalls(), ghost)).toBeNull();
  });
});
