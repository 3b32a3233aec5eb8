import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { FakeTwilioApi } from './support/fake-twilio-api.js';
import { database, resetState, startApi, testConfig, type Running } from './support/harness.js';
import { AdminClient, createKey } from './support/admin-fixtures.js';

const base = testConfig();
const fake = new FakeTwilioApi(base.TWILIO_ACCOUNT_SID, base.TWILIO_AUTH_TOKEN);
let api: Running;
let db: pg.Pool;
let writer: AdminClient;
let reader: AdminClient;
let fakeUrl: string;

beforeAll(async () => {
  await resetState();
  fakeUrl = await fake.start();
  api = await startApi(testConfig({ TWILIO_API_BASE_URL: fakeUrl, ADMIN_RATE_LIMIT: '1000000' }));
  db = database();
  writer = new AdminClient(api.url, (await createKey(db, 'dialer', ['write'])).key);
  reader = new AdminClient(api.url, (await createKey(db, 'viewer', ['read'])).key);
});

afterAll(async () => {
  await api?.close();
  await fake.stop();
  await db?.end();
});

beforeEach(() => {
  fake.requests.length = 0;
});

describe('POST /admin/calls', () => {
  it('places the call through Twilio REST with our webhook and status callback URLs', async () => {
    const res = await writer.request('POST', '/admin/calls', { to: '+15557654321', from: '+15551234567', mode: 'gather', agent: 'default' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: 'queued', to: '+15557654321', from: '+15551234567', mode: 'gather', agent: 'default' });
    expect(res.json.callSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(fake.calls.has(res.json.callSid)).toBe(true);

    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/2010-04-01/Accounts/${base.TWILIO_ACCOUNT_SID}/Calls.json`);
    expect(req.authorized).toBe(true);
    expect(req.params).toMatchObject({
      To: '+15557654321',
      From: '+15551234567',
      Url: 'https://voice.example.test/twilio/voice?mode=gather&agent=default',
      Method: 'POST',
      StatusCallback: 'https://voice.example.test/twilio/status',
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
    });
  });

  it('defaults mode and agent from the configuration', async () => {
    const res = await writer.request('POST', '/admin/calls', { to: '+15557654321', from: '+15551234567' });
    expect(res.status).toBe(201);
    expect(fake.requests[0].params.Url).toBe(`https://voice.example.test/twilio/voice?mode=${base.DEFAULT_CALL_MODE}&agent=${base.DEFAULT_AGENT}`);
  });

  it('never reaches Twilio for a read-only key, bad numbers or an unknown agent', async () => {
    expect((await reader.request('POST', '/admin/calls', { to: '+15557654321', from: '+15551234567' })).status).toBe(403);
    const bad = await writer.request('POST', '/admin/calls', { to: '+1 555 765 4321', from: '+15551234567' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json.message)).toContain('to must be an E.164');
    const missing = await writer.request('POST', '/admin/calls', { to: '+15557654321' });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json.message)).toContain('from');
    const agent = await writer.request('POST', '/admin/calls', { to: '+15557654321', from: '+15551234567', agent: 'nobody' });
    expect(agent.status).toBe(422);
    expect(agent.json.message).toContain('nobody');
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 502 when Twilio refuses our credentials', async () => {
    const wrong = await startApi(testConfig({ TWILIO_API_BASE_URL: fakeUrl, TWILIO_AUTH_TOKEN: 'wrong-auth-token-0123456789abcdef' }));
    try {
      const key = (await createKey(db, 'dialer-2', ['write'])).key;
      const res = await new AdminClient(wrong.url, key).request('POST', '/admin/calls', { to: '+15557654321', from: '+15551234567' });
      expect(res.status).toBe(502);
      expect(res.json.message).toContain('20003');
      expect(fake.requests.at(-1)?.authorized).toBe(false);
    } finally {
      await wrong.close();
    }
  });
});
