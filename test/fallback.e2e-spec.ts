import { describe, expect, it } from '@jest/globals';
import { callParams, FakeTwilio, newCallSid, sayText, startApi, startWorker, testConfig, waitFor } from './support/harness.js';
import { useStoreFaults } from './support/store-faults.js';

const faults = useStoreFaults();
const { pgProxy, redisProxy, running } = faults;

const fallbackEvents = async (sid: string) =>
  (await faults.db.query('SELECT type, "dedupeKey", data FROM call_events WHERE "callSid" = $1 AND type = $2', [sid, 'fallback'])).rows;

/** Twilio's request to the voice fallback URL: the call's parameters plus what failed. */
const failure = { ErrorCode: '11200', ErrorUrl: 'https://voice.example.test/twilio/voice' };

describe('POST /twilio/fallback', () => {
  it('answers an apology and a goodbye with Redis, Postgres and the worker all down, and records it once they return', async () => {
    const config = testConfig({
      REDIS_URL: await redisProxy.proxiedUrl(process.env.REDIS_URL!),
      DATABASE_URL: await pgProxy.proxiedUrl(process.env.DATABASE_URL!),
    });
    const api = await startApi(config);
    running.push(api);
    const twilio = new FakeTwilio(api.url, config);
    const sid = newCallSid();
    redisProxy.cut();
    pgProxy.cut();

    const res = await twilio.post('/twilio/fallback', callParams(sid, config, failure));
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/text\/xml/);
    expect(res.ms).toBeLessThan(3000);
    expect(res.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Say[^>]*>[^<]+<\/Say><Hangup\/><\/Response>$/);
    expect(sayText(res.body)[0]).toMatch(/sorry.*goodbye/i);

    // A retry of the same fallback while everything is down: same answer, and stored once later.
    expect((await twilio.post('/twilio/fallback', callParams(sid, config, failure))).body).toBe(res.body);

    redisProxy.restore();
    pgProxy.restore();
    const events = await waitFor(async () => {
      const rows = await fallbackEvents(sid);
      return rows.length > 0 && rows;
    }, 15_000);
    await new Promise((r) => setTimeout(r, 1500)); // a second copy would land within a spool flush
    expect(await fallbackEvents(sid)).toHaveLength(1);
    expect(events[0].data).toMatchObject({ errorCode: '11200', errorUrl: failure.ErrorUrl, transferred: false });
  }, 40_000);

  it('transfers to the human number when one is configured', async () => {
    const config = testConfig({ HUMAN_TRANSFER_NUMBER: '+15005550123' });
    const api = await startApi(config);
    running.push(api, await startWorker(config));
    const twilio = new FakeTwilio(api.url, config);
    const sid = newCallSid();
    const res = await twilio.post('/twilio/fallback', callParams(sid, config, { ...failure, ErrorUrl: 'https://voice.example.test/twilio/gather?step=3' }));
    expect(res.status).toBe(200);
    expect(sayText(res.body)[0]).toMatch(/sorry.*connect you/i);
    expect(res.body).toMatch(/<Dial[^>]*><Number>\+15005550123<\/Number><\/Dial>/);
    const events = await waitFor(async () => {
      const rows = await fallbackEvents(sid);
      return rows.length > 0 && rows;
    });
    expect(events[0].data).toMatchObject({ errorCode: '11200', transferred: true });
  });

  it('refuses an unsigned or forged request', async () => {
    const config = testConfig();
    const api = await startApi(config);
    running.push(api);
    const twilio = new FakeTwilio(api.url, config);
    const params = callParams(newCallSid(), config, failure);
    expect((await twilio.post('/twilio/fallback', params, { signature: null })).status).toBe(403);
    expect((await twilio.post('/twilio/fallback', params, { signature: 'forged' })).status).toBe(403);
  });
});
