import { describe, expect, it } from '@jest/globals';
import { FakeTwilio, callParams, newCallSid, sayText, startApi, startWorker, testConfig, twimlUrl, waitFor } from './support/harness.js';
import { useStoreFaults } from './support/store-faults.js';

const faults = useStoreFaults();
const { pgProxy, redisProxy, running } = faults;

async function ready(url: string) {
  const started = performance.now();
  const res = await fetch(`${url}/health/ready`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, { status: string }> }, ms: performance.now() - started };
}

describe('readiness follows its dependencies', () => {
  it('names Redis when it stops or hangs, answers within 2 s, and recovers within 5 s', async () => {
    const config = testConfig({ REDIS_URL: await redisProxy.proxiedUrl(process.env.REDIS_URL!) });
    running.push(await startWorker(testConfig()));
    const api = await startApi(config);
    running.push(api);
    await waitFor(async () => (await ready(api.url)).status === 200);

    redisProxy.cut();
    const down = await waitFor(async () => {
      const r = await ready(api.url);
      return r.status === 503 && r;
    }, 2000);
    expect(down.body.checks.redis.status).toBe('down');
    expect(down.body.checks.postgres.status).toBe('up');
    expect(down.ms).toBeLessThan(2000);

    // Hung long enough that every connection has reconnected into a Redis that never answers
    // (the handshake stalls with the socket open): the clients must drop those sockets themselves.
    redisProxy.hang();
    const hung = await ready(api.url);
    expect(hung.status).toBe(503);
    expect(hung.ms).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 2500));

    redisProxy.restore();
    const t0 = Date.now();
    await waitFor(async () => (await ready(api.url)).status === 200, 5000);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('names Postgres when it stops or hangs, and recovers within 5 s', async () => {
    const config = testConfig({ DATABASE_URL: await pgProxy.proxiedUrl(process.env.DATABASE_URL!) });
    running.push(await startWorker(testConfig()));
    const api = await startApi(config);
    running.push(api);
    await waitFor(async () => (await ready(api.url)).status === 200);

    pgProxy.cut();
    const down = await waitFor(async () => {
      const r = await ready(api.url);
      return r.status === 503 && r;
    }, 2000);
    expect(down.body.checks.postgres.status).toBe('down');
    expect(down.body.checks.redis.status).toBe('up');
    // Operators see it on /metrics too (switchboard_store_errors_total{store="postgres"}).
    const exposition = await (await fetch(`${api.url}/metrics`)).text();
    expect(Number(/switchboard_store_errors_total\{[^}]*store="postgres"[^}]*\} (\d+)/.exec(exposition)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);

    pgProxy.hang();
    const hung = await ready(api.url);
    expect(hung.status).toBe(503);
    expect(hung.ms).toBeLessThan(2000);

    pgProxy.restore();
    await waitFor(async () => (await ready(api.url)).status === 200, 5000);
  });

  it('reports a missing worker', async () => {
    const api = await startApi(testConfig());
    running.push(api);
    await new Promise((r) => setTimeout(r, 50));
    const res = await ready(api.url);
    // No worker in this test's Redis db has beaten recently (earlier workers left on close).
    expect(res.status).toBe(503);
    expect(res.body.checks.worker.status).toBe('down');
  });
});

describe('a caller never hears an application error', () => {
  it('worker stopped: a filler, then an apology and a reprompt within the ceiling', async () => {
    const config = testConfig({ TURN_WAIT_MS: '300', TURN_CEILING_MS: '1500' });
    const api = await startApi(config);
    running.push(api);
    const twilio = new FakeTwilio(api.url, config);
    const sid = newCallSid();
    const base = callParams(sid, config);
    await twilio.post('/twilio/voice', base);

    const started = Date.now();
    let res = await twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'I need help with my bill', Confidence: '0.9' });
    expect(res.status).toBe(200);
    expect(sayText(res.body)).toEqual(['One moment.']);
    let next = twimlUrl(res.body, 'Redirect')!;
    expect(next).toBe('https://voice.example.test/twilio/gather/wait?step=1&n=1');
    const seen: string[] = [];
    for (let i = 0; i < 10 && next.includes('/wait'); i++) {
      res = await twilio.post(FakeTwilio.pathOf(next), base);
      expect(res.status).toBe(200);
      seen.push(res.body);
      next = twimlUrl(res.body, 'Redirect')!;
    }
    expect(Date.now() - started).toBeLessThan(1500 + 1500);
    const last = seen.at(-1)!;
    expect(sayText(last)[0]).toMatch(/sorry/i);
    expect(twimlUrl(last, 'Gather')).toBe('https://voice.example.test/twilio/gather?step=2');
  });

  it('Redis stopped: valid fallback TwiML within 2 s on every route', async () => {
    const config = testConfig({ REDIS_URL: await redisProxy.proxiedUrl(process.env.REDIS_URL!) });
    const api = await startApi(config);
    running.push(api);
    const twilio = new FakeTwilio(api.url, config);
    const sid = newCallSid();
    const base = callParams(sid, config);
    redisProxy.cut();

    const voice = await twilio.post('/twilio/voice', base);
    expect(voice.status).toBe(200);
    expect(voice.ms).toBeLessThan(2000);
    expect(voice.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Gather /);

    const gather = await twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'billing please', Confidence: '0.9' });
    expect(gather.status).toBe(200);
    expect(gather.ms).toBeLessThan(2000);
    expect(gather.contentType).toMatch(/text\/xml/);
    expect(sayText(gather.body)[0]).toMatch(/sorry/i);
    expect(gather.body).toMatch(/<Gather .*action="https:\/\/voice\.example\.test\/twilio\/gather\?step=1"/);

    const status = await twilio.post('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '5', SequenceNumber: '4' });
    expect(status.status).toBeLessThan(300);
    expect(status.ms).toBeLessThan(2000);

    // With Redis down, the call row still reaches Postgres directly.
    await waitFor(async () => (await faults.db.query('SELECT status FROM calls WHERE "callSid" = $1', [sid])).rows[0]?.status === 'completed');
  });

  it('Postgres stopped mid-call: the call goes on and the transcript is complete once it returns', async () => {
    const proxied = testConfig({ DATABASE_URL: await pgProxy.proxiedUrl(process.env.DATABASE_URL!) });
    const worker = await startWorker(proxied);
    const api = await startApi(proxied);
    running.push(api, worker);
    const twilio = new FakeTwilio(api.url, proxied);
    const sid = newCallSid();
    const base = callParams(sid, proxied);

    await twilio.post('/twilio/voice', base);
    await waitFor(async () => (await faults.db.query('SELECT 1 FROM turns WHERE "callSid" = $1', [sid])).rowCount === 1);
    pgProxy.cut();

    let res = await twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'sales please', Confidence: '0.95' });
    expect(sayText(res.body)[0]).toMatch(/sales/i);
    res = await twilio.post(FakeTwilio.pathOf(twimlUrl(res.body, 'Gather')!), { ...base, SpeechResult: 'goodbye', Confidence: '0.95' });
    expect(res.body).toContain('<Hangup/>');
    await twilio.post('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '30', SequenceNumber: '3' });
    expect((await faults.db.query('SELECT count(*)::int AS n FROM turns WHERE "callSid" = $1', [sid])).rows[0].n).toBe(1);

    pgProxy.restore();
    const turns = await waitFor(async () => {
      const { rows } = await faults.db.query('SELECT seq, speaker, text FROM turns WHERE "callSid" = $1 ORDER BY seq', [sid]);
      return rows.length === 7 && rows;
    }, 20_000);
    expect(turns.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(turns.map((t) => t.speaker)).toEqual(['agent', 'caller', 'tool', 'agent', 'caller', 'tool', 'agent']);
    const call = await waitFor(async () => (await faults.db.query('SELECT status FROM calls WHERE "callSid" = $1', [sid])).rows[0]?.status === 'completed', 20_000);
    expect(call).toBe(true);
  }, 40_000);
});
