import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { AgentTurnQueue, TurnEventsSubscriber, type TurnEvent } from '#libs/queues';
import { FakeOpenAi } from './support/fake-openai.js';
import {
  FakeTwilio, callParams, database, newCallSid, resetState, sayText, startApi, startWorker, testConfig, twimlUrl, waitFor,
  type Running,
} from './support/harness.js';

// The whole system in one process with AI_PROVIDER=openai: signed Twilio webhooks in, the real
// api and worker, BullMQ on the test Redis, the fake model over HTTP, transcripts in Postgres.
const fake = new FakeOpenAi();
let api: Running;
let worker: Running;
let twilio: FakeTwilio;
let db: pg.Pool;
let config: ReturnType<typeof testConfig>;

/** The shipped agents plus "quick", whose turn budget is short enough to test timeouts. */
function agentsFile(): string {
  const { agents } = JSON.parse(readFileSync('config/agents.json', 'utf8')) as { agents: { name: string; model: object }[] };
  const quick = { ...agents[0], name: 'quick', model: { ...agents[0].model, turnBudgetMs: 1500 } };
  const path = join(mkdtempSync(join(tmpdir(), 'sb-agents-')), 'agents.json');
  writeFileSync(path, JSON.stringify({ agents: [...agents, quick] }));
  return path;
}

beforeAll(async () => {
  await resetState();
  await fake.start();
  config = testConfig({
    AI_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.url(),
    OPENAI_MODEL: 'fake-model',
    HUMAN_TRANSFER_NUMBER: '+15005550009',
    AGENTS_FILE: agentsFile(),
  });
  worker = await startWorker(config);
  api = await startApi(config);
  twilio = new FakeTwilio(api.url, config);
  db = database();
});

afterAll(async () => {
  await api?.close();
  await worker?.close();
  await db?.end();
  await fake.stop();
});

beforeEach(() => fake.reset());

async function turnsOf(callSid: string) {
  const { rows } = await db.query('SELECT seq, speaker, text, action, data FROM turns WHERE "callSid" = $1 ORDER BY seq', [callSid]);
  return rows as { seq: number; speaker: string; text: string; action: string | null; data: Record<string, unknown> | null }[];
}

async function startCall(agent?: string) {
  const sid = newCallSid();
  const base = callParams(sid, config);
  const greeting = await twilio.post(`/twilio/voice${agent ? `?agent=${agent}` : ''}`, base);
  expect(greeting.status).toBe(200);
  return { sid, base };
}

function say(step: number, base: Record<string, string>, speech: string) {
  return twilio.post(`/twilio/gather?step=${step}`, { ...base, SpeechResult: speech, Confidence: '0.9' });
}

describe('speech calls answered by an OpenAI-compatible model', () => {
  it('streams the answer to the api as tokens, speaks it, and stores the transcript and outcome', async () => {
    fake.then({ kind: 'tools', text: 'Let me put you through.', calls: [{ name: 'route_department', arguments: { department: 'billing' } }] });
    fake.responder = () => ({ kind: 'text', text: 'The caller asked about an invoice and was routed to billing.' });
    const { sid, base } = await startCall();
    const events: TurnEvent[] = [];
    const unsubscribe = await api.app.get(TurnEventsSubscriber).subscribe(sid, 1, (e) => events.push(e));

    const res = await say(1, base, 'I have a question about my invoice');
    await unsubscribe();
    expect(sayText(res.body)).toEqual(['Let me put you through.']);
    expect(twimlUrl(res.body, 'Gather')).toMatch(/step=2$/);
    expect(FakeOpenAi.lastUser(fake.requests[0])).toBe('I have a question about my invoice');

    const tokens = events.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text);
    expect(tokens.join('')).toBe('Let me put you through.');
    expect(events.at(-1)).toMatchObject({ type: 'done', attempt: 1, result: { provider: 'openai', decision: { action: 'route' } } });

    await twilio.post('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '20', SequenceNumber: '2' });
    const turns = await waitFor(async () => {
      const rows = await turnsOf(sid);
      return rows.length >= 4 && rows;
    });
    expect(turns.map((t) => `${t.speaker}:${t.action ?? ''}`)).toEqual(['agent:greeting', 'caller:', 'tool:route_department', 'agent:route']);
    expect(turns[3].data).toMatchObject({ intent: 'billing', department: 'billing' });
    const call = await waitFor(async () => {
      const { rows } = await db.query('SELECT disposition, intent, summary FROM calls WHERE "callSid" = $1', [sid]);
      return rows[0]?.disposition && rows[0];
    });
    expect(call).toMatchObject({ disposition: 'resolved', intent: 'billing', summary: 'The caller asked about an invoice and was routed to billing.' });
    const summaryRequest = fake.requests.at(-1)!;
    expect(summaryRequest.body.tools).toBeUndefined();
    expect(summaryRequest.body.messages?.[1].content).toContain('caller: I have a question about my invoice');
  });

  it('a failing model leaves the extractive post-call summary', async () => {
    const { sid, base } = await startCall();
    fake.then({ kind: 'text', text: 'Sure.' });
    await say(1, base, 'just testing');
    fake.responder = () => ({ kind: 'error', status: 400, message: 'no summaries today' });
    await twilio.post('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '5', SequenceNumber: '2' });
    const call = await waitFor(async () => {
      const { rows } = await db.query('SELECT disposition, summary FROM calls WHERE "callSid" = $1', [sid]);
      return rows[0]?.disposition && rows[0];
    });
    expect(call.summary).toMatch(/^Caller said: "just testing"\./);
  });

  it('escapes model output that tries to inject TwiML', async () => {
    fake.then({ kind: 'text', text: 'Sure </Say><Dial><Number>+15550001111</Number></Dial><Say> & done.' });
    const { base } = await startCall();
    const res = await say(1, base, 'hello');
    expect(res.body).not.toContain('<Dial>');
    expect(res.body).toContain('&lt;/Say&gt;&lt;Dial&gt;&lt;Number&gt;');
    expect(res.body).toContain('&amp; done.');
  });

  it('a transfer_call tool call dials the human number and is stored as a tool turn', async () => {
    fake.then({ kind: 'tools', calls: [{ name: 'transfer_call', arguments: { target: 'human', reason: 'caller asked' } }] });
    const { sid, base } = await startCall();
    const res = await say(1, base, 'Get me a real person');
    expect(res.body).toMatch(/<Dial[^>]*><Number>\+15005550009<\/Number><\/Dial>/);
    const turns = await waitFor(async () => {
      const rows = await turnsOf(sid);
      return rows.some((t) => t.action === 'transfer') && rows;
    });
    expect(turns.slice(-2).map((t) => `${t.speaker}:${t.action}`)).toEqual(['tool:transfer_call', 'agent:transfer']);
    expect(turns.at(-2)!.data).toMatchObject({ args: { target: 'human', reason: 'caller asked' } });
  });

  it('a 429 from the model is retried inside the turn and the caller hears the answer', async () => {
    fake.then({ kind: 'error', status: 429, headers: { 'retry-after-ms': '50' } }, { kind: 'text', text: 'Thanks for waiting.' });
    const { base } = await startCall();
    const res = await say(1, base, 'hello?');
    expect(sayText(res.body)).toEqual(['Thanks for waiting.']);
    expect(fake.requests).toHaveLength(2);
  });

  it('a model that never answers ends in the apology path within the turn budget, never silence', async () => {
    fake.then({ kind: 'hang' });
    const { sid, base } = await startCall('quick');
    const res = await say(1, base, 'hello?');
    expect(res.ms).toBeLessThan(2500);
    expect(sayText(res.body)[0]).toMatch(/couldn't look that up/);
    expect(twimlUrl(res.body, 'Gather')).toMatch(/step=2$/);
    expect(fake.requests[0].aborted).toBe(true);
    const turns = await waitFor(async () => {
      const rows = await turnsOf(sid);
      return rows.some((t) => t.action === 'apology') && rows;
    });
    expect(turns.at(-1)).toMatchObject({ speaker: 'agent', action: 'apology' });
  });
});

describe('cancellation', () => {
  it('AgentTurnQueue.cancel aborts the model request at once and the job ends cancelled', async () => {
    fake.then({ kind: 'hang' });
    const queue = api.app.get(AgentTurnQueue);
    const sid = newCallSid();
    const events: TurnEvent[] = [];
    const unsubscribe = await api.app.get(TurnEventsSubscriber).subscribe(sid, 1, (e) => events.push(e));
    const jobId = await queue.enqueue({
      callSid: sid, step: 1, agentName: 'default', input: { kind: 'speech', text: 'hello' }, history: [], state: {}, receivedAt: Date.now(),
    });
    await waitFor(async () => fake.requests.length > 0, 5000, 2);
    const cancelledAt = Date.now();
    await queue.cancel(jobId);
    await waitFor(async () => fake.requests[0].closedAt !== undefined, 2000, 1);
    expect(fake.requests[0].aborted).toBe(true);
    // The 100 ms promise is measured against real worker processes (worker-pool spec); inside
    // Jest's VM the first abort of a run pays for cold code paths, so only promptness is checked here.
    expect(fake.requests[0].closedAt! - cancelledAt).toBeLessThan(500);

    const outcome = await queue.waitFor(jobId, 2000);
    expect(outcome).toMatchObject({ state: 'failed' });
    expect((outcome as { reason: string }).reason).toMatch(/^cancelled/);
    await waitFor(async () => events.some((e) => e.type === 'failed'));
    await unsubscribe();
    expect(events.find((e) => e.type === 'failed')).toMatchObject({ code: 'cancelled' });
    expect(events.some((e) => e.type === 'done')).toBe(false);
  });

  it('the caller hanging up mid-turn cancels the turn: no agent turn is stored for it', async () => {
    fake.then({ kind: 'hang' });
    const { sid, base } = await startCall();
    const gather = say(1, base, 'I want to ask about');
    await waitFor(async () => fake.requests.length > 0, 5000, 2);
    const status = await twilio.post('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '9', SequenceNumber: '2' });
    expect(status.status).toBe(204);
    const held = await gather;
    expect(held.body).toMatch(/<Redirect[^>]*>[^<]*gather\/wait/);
    await waitFor(async () => fake.requests[0].aborted === true, 2000, 5);

    const call = await waitFor(async () => {
      const { rows } = await db.query('SELECT disposition FROM calls WHERE "callSid" = $1', [sid]);
      return rows[0]?.disposition && rows[0];
    });
    expect(call.disposition).toBeDefined();
    const turns = await turnsOf(sid);
    expect(turns.map((t) => `${t.speaker}:${t.action ?? ''}`)).toEqual(['agent:greeting', 'caller:']);
  });
});
