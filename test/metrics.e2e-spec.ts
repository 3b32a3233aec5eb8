import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AGENT_PROVIDER, AgentsModule, type AgentProvider } from '#libs/agents';
import { ConfigModule } from '#libs/config';
import { METRICS_APP, METRICS_ENABLED, MetricsService } from '#libs/metrics';
import { FakeOpenAi } from './support/fake-openai.js';
import type pg from 'pg';
import { TwilioMediaClient } from '../scripts/call/media-client.js';
import { TwilioRelayClient } from '../scripts/call/relay-client.js';
import { FakeTwilioApi } from './support/fake-twilio-api.js';
import { FakeTwilio, callParams, newCallSid, startSystem, testConfig, twimlUrl, waitFor, type Running, type System } from './support/harness.js';
import { answerCall, say, sleep, stt } from './support/media.js';
import { parseExposition, promtoolCheck, scrape, valueOf, type Sample } from './support/prometheus.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const ADMIN = { authorization: `Bearer ${process.env.ADMIN_API_KEY}` };
let fakeApi: FakeTwilioApi;
let config: ReturnType<typeof testConfig>;
let system: System;
let api: Running;
let worker: Running;
let twilio: FakeTwilio;
let db: pg.Pool;

beforeAll(async () => {
  const base = testConfig();
  fakeApi = new FakeTwilioApi(base.TWILIO_ACCOUNT_SID, base.TWILIO_AUTH_TOKEN);
  const fakeUrl = await fakeApi.start();
  config = testConfig({ METRICS_TOKEN: TOKEN, TWILIO_API_BASE_URL: fakeUrl });
  system = await startSystem(config);
  ({ api, worker, twilio, db } = system);
}, 60_000);

afterAll(async () => {
  await system?.close();
  await fakeApi?.stop();
  await stt.dispose();
});

const apiMetrics = async () => (await scrape(api.url, TOKEN)).samples;
const workerMetrics = async () => (await scrape(worker.url, TOKEN)).samples;
const stage = (s: Sample[], mode: string, name: string) => valueOf(s, 'switchboard_turn_stage_seconds_count', { mode, stage: name });

interface StoredTiming {
  speaker: string;
  action: string | null;
  interrupted: boolean;
  timings: Record<string, number> | null;
}

async function agentTurns(callSid: string): Promise<StoredTiming[]> {
  const { rows } = await db.query('SELECT speaker, action, interrupted, timings FROM turns WHERE "callSid" = $1 AND speaker = $2 ORDER BY seq', [callSid, 'agent']);
  return rows as StoredTiming[];
}

describe('GET /metrics', () => {
  it('wants the bearer token when METRICS_TOKEN is set, on the api and the worker', async () => {
    for (const app of [api, worker]) {
      expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      const res = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    }
  });

  it('passes promtool check metrics on the api and the worker', async () => {
    // One call first, so the histograms and labelled counters have series to check.
    const sid = newCallSid();
    await twilio.post('/twilio/voice', callParams(sid, config));
    await twilio.post('/twilio/gather?step=1', callParams(sid, config, { SpeechResult: 'what are your opening hours', Confidence: '0.9' }));
    for (const app of [api, worker]) {
      const { text } = await scrape(app.url, TOKEN);
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect(text).toContain('process_resident_memory_bytes');
      expect(text).toContain('switchboard_queue_jobs{');
      const check = await promtoolCheck(text);
      expect(check).toEqual({ code: 0, output: '' });
    }
  });
});

describe('calls move the metrics by what happened', () => {
  it('gather: one turn is one observation per stage, the forged request one rejection; the timings are stored and served', async () => {
    const before = await apiMetrics();
    const workerBefore = await workerMetrics();
    const sid = newCallSid();
    const voice = await twilio.post('/twilio/voice', callParams(sid, config));
    expect(voice.status).toBe(200);
    const gather = await twilio.post(FakeTwilio.pathOf(twimlUrl(voice.body, 'Gather')!), callParams(sid, config, { SpeechResult: 'I need help with my bill', Confidence: '0.92' }));
    expect(gather.body).toMatch(/billing/i);
    const forged = await twilio.post('/twilio/gather?step=2', callParams(sid, config, { SpeechResult: 'hi', Confidence: '0.9' }), { signature: 'forged' });
    expect(forged.status).toBe(403);
    const missed = await twilio.post(FakeTwilio.pathOf(twimlUrl(gather.body, 'Gather')!), callParams(sid, config, { SpeechResult: '', Confidence: '0' }));
    expect(missed.status).toBe(200);
    await twilio.post('/twilio/status', callParams(sid, config, { CallStatus: 'completed', CallDuration: '7', SequenceNumber: '3' }));

    const after = await apiMetrics();
    for (const s of ['total', 'queue', 'model_first_token', 'model_total']) expect(stage(after, 'gather', s) - stage(before, 'gather', s)).toBe(1);
    expect(stage(after, 'gather', 'recognition') - stage(before, 'gather', 'recognition')).toBe(0);
    const webhooks = (s: Sample[], route: string, status_class: string) => valueOf(s, 'switchboard_webhook_duration_seconds_count', { route, status_class });
    expect(webhooks(after, '/twilio/voice', '2xx') - webhooks(before, '/twilio/voice', '2xx')).toBe(1);
    expect(webhooks(after, '/twilio/gather', '2xx') - webhooks(before, '/twilio/gather', '2xx')).toBe(2);
    expect(webhooks(after, '/twilio/gather', '4xx') - webhooks(before, '/twilio/gather', '4xx')).toBe(1);
    expect(webhooks(after, '/twilio/status', '2xx') - webhooks(before, '/twilio/status', '2xx')).toBe(1);
    const rejected = (s: Sample[]) => valueOf(s, 'switchboard_webhook_signature_rejections_total', { route: '/twilio/gather' });
    expect(rejected(after) - rejected(before)).toBe(1);
    const d = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(d('switchboard_calls_started_total', { mode: 'gather' })).toBe(1);
    expect(d('switchboard_calls_ended_total', { status: 'completed' })).toBe(1);
    expect(d('switchboard_missed_turns_total', { mode: 'gather', reason: 'no_input' })).toBe(1);

    // The worker ran the turn and stored the transcript: job durations and durability lag moved.
    const workerAfter = await waitFor(async () => {
      const s = await workerMetrics();
      const stored = valueOf(s, 'switchboard_transcript_lag_seconds_count') - valueOf(workerBefore, 'switchboard_transcript_lag_seconds_count');
      return stored >= 4 && valueOf(s, 'switchboard_call_dispositions_total') > valueOf(workerBefore, 'switchboard_call_dispositions_total') && s;
    }, 15_000, 100);
    const jobs = (s: Sample[], queue: string) => valueOf(s, 'switchboard_queue_job_duration_seconds_count', { queue, outcome: 'completed' });
    expect(jobs(workerAfter, 'agent-turns') - jobs(workerBefore, 'agent-turns')).toBe(1);
    expect(jobs(workerAfter, 'transcripts') - jobs(workerBefore, 'transcripts')).toBeGreaterThanOrEqual(3);
    expect(valueOf(workerAfter, 'switchboard_agent_turns_total', { provider: 'local', outcome: 'ok' })
      - valueOf(workerBefore, 'switchboard_agent_turns_total', { provider: 'local', outcome: 'ok' })).toBe(1);

    // The stage breakdown is stored with the agent's turn and served by the admin API.
    const turns = await waitFor(async () => {
      const t = await agentTurns(sid);
      return t.some((x) => x.action === 'route') && t;
    });
    const answered = turns.find((t) => t.action === 'route')!;
    expect(Object.keys(answered.timings!).sort()).toEqual(['model_first_token', 'model_total', 'queue', 'total']);
    expect(answered.timings!.total).toBeGreaterThanOrEqual(answered.timings!.model_total);
    expect(turns.find((t) => t.action === 'greeting')!.timings).toBeNull();
    const detail = (await (await fetch(`${api.url}/admin/calls/${sid}`, { headers: ADMIN })).json()) as { turns: Array<{ action: string; timings: unknown }> };
    expect(detail.turns.find((t) => t.action === 'route')!.timings).toEqual(answered.timings);

    const stats = (await (await fetch(`${api.url}/admin/stats`, { headers: ADMIN })).json()) as { turnLatency: Array<{ mode: string; stage: string; turns: number; p50Ms: number; p95Ms: number }> };
    const total = stats.turnLatency.find((x) => x.mode === 'gather' && x.stage === 'total')!;
    expect(total.turns).toBeGreaterThanOrEqual(1);
    expect(total.p95Ms).toBeGreaterThanOrEqual(total.p50Ms);
    expect(stats.turnLatency.map((x) => x.stage)).toEqual(expect.arrayContaining(['total', 'queue', 'model_total']));
  }, 60_000);

  it('relay: each answered prompt is one turn, an interrupt one barge-in', async () => {
    const before = await apiMetrics();
    const sid = newCallSid();
    const { token } = await answerCall(twilio, config, sid, 'relay');
    const relay = new TwilioRelayClient({ apiUrl: api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN });
    await relay.connect();
    relay.setup(sid, config.TWILIO_ACCOUNT_SID, token);
    relay.prompt('I need help with my bill');
    let answer = await relay.answer(0);
    relay.prompt('What are your opening hours?');
    answer = await relay.answer(answer.end);
    relay.send({ type: 'interrupt', utteranceUntilInterrupt: "We're open", durationUntilInterruptMs: 600 });
    relay.prompt('thanks');
    await relay.answer(answer.end);
    relay.close();
    await waitFor(async () => (await agentTurns(sid)).filter((t) => t.timings).length === 3, 15_000);

    const after = await waitFor(async () => {
      const s = await apiMetrics();
      return stage(s, 'relay', 'total') - stage(before, 'relay', 'total') >= 3 && s;
    }, 10_000);
    expect(stage(after, 'relay', 'total') - stage(before, 'relay', 'total')).toBe(3);
    expect(stage(after, 'relay', 'model_total') - stage(before, 'relay', 'model_total')).toBe(3);
    expect(valueOf(after, 'switchboard_barge_ins_total', { mode: 'relay' }) - valueOf(before, 'switchboard_barge_ins_total', { mode: 'relay' })).toBe(1);
    expect(valueOf(after, 'switchboard_media_messages_total', { socket: 'relay' }) - valueOf(before, 'switchboard_media_messages_total', { socket: 'relay' })).toBeGreaterThanOrEqual(5);
    const stored = (await agentTurns(sid)).filter((t) => t.timings);
    for (const t of stored) expect(Object.keys(t.timings!)).toEqual(expect.arrayContaining(['total', 'queue', 'model_total']));
    expect(stored.find((t) => t.interrupted)).toBeDefined();
  }, 60_000);

  it('stream: a barge-in on the greeting is counted once with its reaction time; the answer is one turn with recognition and synthesis', async () => {
    const before = await apiMetrics();
    const sid = newCallSid();
    const { token } = await answerCall(twilio, config, sid, 'stream');
    const caller = new TwilioMediaClient({ apiUrl: api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN });
    await caller.connect();
    const request = await say('I need help with my bill');
    caller.start(sid, config.TWILIO_ACCOUNT_SID, token);
    caller.startAudio();
    await waitFor(async () => caller.echoed.length >= 1, 15_000, 20);
    await caller.say(request);
    const clearAt = await waitFor(async () => caller.received.findIndex((x) => x.kind === 'clear') + 1, 5000, 10);
    await waitFor(async () => caller.received.slice(clearAt).some((x) => x.kind === 'mark'), 20_000, 20);
    await sleep(200);
    caller.stop(sid, config.TWILIO_ACCOUNT_SID);
    const turns = await waitFor(async () => {
      const t = await agentTurns(sid);
      return t.some((x) => x.timings) && t;
    }, 15_000);

    const after = await apiMetrics();
    expect(valueOf(after, 'switchboard_barge_ins_total', { mode: 'stream' }) - valueOf(before, 'switchboard_barge_ins_total', { mode: 'stream' })).toBe(1);
    expect(valueOf(after, 'switchboard_barge_in_reaction_seconds_count', { mode: 'stream' }) - valueOf(before, 'switchboard_barge_in_reaction_seconds_count', { mode: 'stream' })).toBe(1);
    for (const s of ['total', 'recognition', 'queue', 'model_total', 'synthesis_first_audio']) expect(stage(after, 'stream', s) - stage(before, 'stream', s)).toBe(1);
    const answered = turns.find((t) => t.timings)!;
    expect(Object.keys(answered.timings!)).toEqual(expect.arrayContaining(['total', 'recognition', 'queue', 'model_first_token', 'model_total', 'synthesis_first_audio']));
    // The caller's wait contains recognition and the model's first token (ms rounding on two clocks aside).
    expect(answered.timings!.total).toBeGreaterThanOrEqual(answered.timings!.recognition + answered.timings!.model_first_token - 5);
    expect(valueOf(after, 'switchboard_media_messages_total', { socket: 'media' }) - valueOf(before, 'switchboard_media_messages_total', { socket: 'media' })).toBeGreaterThan(50);
  }, 90_000);
});

describe('model requests', () => {
  @Global()
  @Module({
    providers: [{ provide: METRICS_APP, useValue: 'worker' }, { provide: METRICS_ENABLED, useValue: true }, MetricsService],
    exports: [MetricsService],
  })
  class TestMetricsModule {}

  it('the openai provider counts every attempt: 429, 5xx, the retries and the answer', async () => {
    const fake = new FakeOpenAi();
    await fake.start();
    try {
      const openai = testConfig({ AI_PROVIDER: 'openai', OPENAI_BASE_URL: fake.url(), OPENAI_MODEL: 'fake-model' });
      const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(openai), TestMetricsModule, AgentsModule] }).compile();
      const provider = moduleRef.get<AgentProvider>(AGENT_PROVIDER);
      const metrics = moduleRef.get(MetricsService);
      fake.then({ kind: 'error', status: 429, headers: { 'retry-after-ms': '50' } }, { kind: 'error', status: 503 }, { kind: 'text', text: 'Here I am.' });
      const decision = await provider.respond(
        { callSid: `CA${'a'.repeat(32)}`, agentName: 'default', input: { kind: 'speech', text: 'hello', confidence: 0.9 }, history: [], state: {} },
        new AbortController().signal,
      );
      expect(decision.say).toBe('Here I am.');
      const samples = parseExposition(await metrics.exposition());
      const outcome = (o: string) => valueOf(samples, 'switchboard_model_requests_total', { provider: 'openai', outcome: o });
      expect({ ok: outcome('ok'), retry: outcome('retry'), '429': outcome('429'), '5xx': outcome('5xx'), error: outcome('error') }).toEqual({ ok: 1, retry: 2, '429': 1, '5xx': 1, error: 0 });
      await moduleRef.close();
    } finally {
      await fake.stop();
    }
  });
});
