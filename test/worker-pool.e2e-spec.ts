import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { AgentTurnQueue, TurnEventsSubscriber, type TurnEvent } from '#libs/queues';
import { FakeOpenAi } from './support/fake-openai.js';
import {
  FakeTwilio, callParams, database, newCallSid, resetState, sayText, startApi, testConfig, twimlUrl, waitFor, type Running,
} from './support/harness.js';
import { ensureBuilt, spawnWorker, stopWorker, type WorkerProcess } from './support/worker-pool.js';

// Real worker processes (the built app) on one Redis, the api in this process, the fake model
// over HTTP. Each worker gets its own OPENAI_BASE_URL prefix, so the fake knows who asked.
const fake = new FakeOpenAi();
const workers: WorkerProcess[] = [];
let api: Running;
let twilio: FakeTwilio;
let db: pg.Pool;
let config: ReturnType<typeof testConfig>;

const FILLER = 'One moment.';

function workerEnv(prefix: string): Record<string, string> {
  return {
    PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
    TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN,
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    AI_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.url(prefix),
    OPENAI_MODEL: 'fake-model',
    WORKER_CONCURRENCY: '4',
  };
}

async function addWorkers(count: number): Promise<void> {
  const started = await Promise.all(
    Array.from({ length: count }, (_, i) => `w${workers.length + i + 1}`).map((name) => spawnWorker(name, workerEnv(name), config.REDIS_URL)),
  );
  workers.push(...started);
}

async function ready(): Promise<{ status: number; body: { checks: Record<string, Record<string, unknown>> } }> {
  const res = await fetch(`${api.url}/health/ready`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, Record<string, unknown>> } };
}

async function agentTurnsOf(callSid: string) {
  const { rows } = await db.query('SELECT seq, speaker, text, action FROM turns WHERE "callSid" = $1 ORDER BY seq', [callSid]);
  return rows as { seq: number; speaker: string; text: string; action: string | null }[];
}

/** Follows the hold/redirect chain of one caller turn until the agent says something else than the filler. */
async function answerOf(first: { body: string }, base: Record<string, string>): Promise<string> {
  let body = first.body;
  for (let hops = 0; hops < 20; hops++) {
    const spoken = sayText(body).filter((t) => t !== FILLER);
    if (twimlUrl(body, 'Gather') || spoken.length) return spoken.join(' ');
    const next = twimlUrl(body, 'Redirect');
    if (!next) throw new Error(`TwiML without a next step: ${body}`);
    body = (await twilio.post(FakeTwilio.pathOf(next), base)).body;
  }
  throw new Error('no answer after 20 redirects');
}

beforeAll(async () => {
  ensureBuilt();
  await resetState();
  await fake.start();
  config = testConfig({ AI_PROVIDER: 'openai', OPENAI_BASE_URL: fake.url('api'), OPENAI_MODEL: 'fake-model', TURN_WAIT_MS: '1500' });
  api = await startApi(config);
  twilio = new FakeTwilio(api.url, config);
  db = database();
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w)));
  await api?.close();
  await db?.end();
  await fake.stop();
});

beforeEach(() => fake.reset());

describe('start-up', () => {
  it('a worker with AI_PROVIDER=openai and no model refuses to start, naming the variable', async () => {
    const env = { ...workerEnv('x'), OPENAI_MODEL: '' };
    const error = await spawnWorker('broken', env, config.REDIS_URL).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/exited with 1: worker failed to start: Invalid configuration: OPENAI_MODEL is required/);
  }, 30_000);
});

describe('queue health', () => {
  it('reports waiting jobs with no live worker as an alarm, then recovers when workers start', async () => {
    const queue = api.app.get(AgentTurnQueue);
    await queue.enqueue({
      callSid: newCallSid(), step: 1, agentName: 'default', input: { kind: 'speech', text: 'anyone there?' }, history: [], state: {},
      receivedAt: Date.now() - 60_000,
    });
    const alarm = await ready();
    expect(alarm.status).toBe(503);
    expect(alarm.body.checks.queue).toMatchObject({ status: 'down', waiting: 1, active: 0, workers: 0, error: '1 waiting job(s) and no live worker' });
    expect(alarm.body.checks.worker).toMatchObject({ status: 'down' });

    await addWorkers(2);
    // The stale turn (its budget long spent) is failed at once, not run: the caller has the apology already.
    const healthy = await waitFor(async () => {
      const r = await ready();
      return r.status === 200 && (r.body.checks.queue.failed as number) >= 1 && r;
    }, 10_000);
    expect(healthy.body.checks.queue).toMatchObject({ status: 'up', waiting: 0, active: 0, failed: 1, workers: 2 });
    expect(healthy.body.checks.worker).toMatchObject({ status: 'up', count: 2 });
    expect(fake.requests).toHaveLength(0);
  }, 60_000);
});

describe('two worker processes', () => {
  it('spread concurrent calls over both workers; every caller gets the answer', async () => {
    fake.responder = () => ({ kind: 'text', text: 'Answered by the pool.', delayMs: 300 });
    const calls = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const sid = newCallSid();
        const base = callParams(sid, config);
        await twilio.post('/twilio/voice', base);
        const res = await twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'hello pool', Confidence: '0.9' });
        return { sid, answer: await answerOf(res, base) };
      }),
    );
    expect(calls.map((c) => c.answer)).toEqual(Array(12).fill('Answered by the pool.'));
    const byWorker = new Map<string, number>();
    for (const r of fake.requests) byWorker.set(r.prefix, (byWorker.get(r.prefix) ?? 0) + 1);
    expect([...byWorker.keys()].sort()).toEqual(['w1', 'w2']);
    expect(Math.min(...byWorker.values())).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

describe('cancellation in a worker process', () => {
  it('AgentTurnQueue.cancel aborts the model request within 100 ms, every time', async () => {
    fake.responder = () => ({ kind: 'hang' });
    const queue = api.app.get(AgentTurnQueue);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = fake.requests.length;
      const jobId = await queue.enqueue({
        callSid: newCallSid(), step: 1, agentName: 'default', input: { kind: 'speech', text: 'hello' }, history: [], state: {}, receivedAt: Date.now(),
      });
      await waitFor(async () => fake.requests.length > before, 5000, 1);
      const request = fake.requests[before];
      const cancelledAt = Date.now();
      await queue.cancel(jobId);
      await waitFor(async () => request.closedAt !== undefined, 2000, 1);
      expect(request.aborted).toBe(true);
      delays.push(request.closedAt! - cancelledAt);
      expect(await queue.waitFor(jobId, 2000)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^cancelled/) });
    }
    expect(Math.max(...delays)).toBeLessThan(100);
  }, 60_000);
});

describe('three worker processes', () => {
  it('spread concurrent calls over all three workers', async () => {
    // Up to three live workers (a retry of this test must not start a fourth).
    await addWorkers(3 - workers.filter((w) => w.child.exitCode === null).length);
    expect(workers.filter((w) => w.child.exitCode === null)).toHaveLength(3);
    fake.responder = () => ({ kind: 'text', text: 'Three ways.', delayMs: 300 });
    const before = fake.requests.length;
    // BullMQ hands a job to whichever worker asks first, each taking up to 16 at once: the split is
    // not even, but with 30 turns in flight every worker gets a share.
    const answers = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const base = callParams(newCallSid(), config);
        await twilio.post('/twilio/voice', base);
        return answerOf(await twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'hello', Confidence: '0.9' }), base);
      }),
    );
    expect(new Set(answers)).toEqual(new Set(['Three ways.']));
    const prefixes = fake.requests.slice(before).map((r) => r.prefix);
    for (const name of ['w1', 'w2', 'w3']) expect(prefixes.filter((p) => p === name).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('kill -9 of the worker running a turn: another worker takes the job and the caller still gets the answer, stored once', async () => {
    expect(workers.filter((w) => w.child.exitCode === null)).toHaveLength(3);
    // The first attempt is slow enough to be killed in the middle; the recovered attempt answers at once.
    fake.then({ kind: 'text', text: 'Too late to be heard.', delayMs: 6000 });
    fake.responder = () => ({ kind: 'text', text: 'Answered after recovery.' });

    const sid = newCallSid();
    const base = callParams(sid, config);
    await twilio.post('/twilio/voice', base);
    const events: TurnEvent[] = [];
    const unsubscribe = await api.app.get(TurnEventsSubscriber).subscribe(sid, 1, (e) => events.push(e));
    const started = Date.now();
    const first = twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'what are your opening hours', Confidence: '0.9' });

    await waitFor(async () => fake.requests.length > 0, 10_000, 5);
    const victim = workers.find((w) => w.name === fake.requests[0].prefix)!;
    victim.child.kill('SIGKILL');
    await victim.exited;

    const answer = await answerOf(await first, base);
    const elapsed = Date.now() - started;
    await unsubscribe();
    expect(answer).toBe('Answered after recovery.');
    expect(elapsed).toBeLessThan(config.TURN_CEILING_MS);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1].prefix).not.toBe(victim.name);
    expect(events.filter((e) => e.type === 'done')).toEqual([expect.objectContaining({ attempt: 2 })]);

    await twilio.post('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '12', SequenceNumber: '2' });
    const turns = await waitFor(async () => {
      const rows = await agentTurnsOf(sid);
      return rows.length >= 3 && rows;
    });
    await new Promise((r) => setTimeout(r, 500)); // a duplicate write would have landed by now
    const final = await agentTurnsOf(sid);
    expect(final).toEqual(turns);
    expect(final.map((t) => `${t.speaker}:${t.action ?? ''}:${t.speaker === 'agent' ? t.text : ''}`)).toEqual([
      `agent:greeting:${final[0].text}`,
      'caller::',
      'agent:say:Answered after recovery.',
    ]);
  }, 60_000);

  it('the surviving workers keep serving, and /health/ready counts them', async () => {
    fake.responder = () => ({ kind: 'text', text: 'Still here.', delayMs: 100 });
    const sid = newCallSid();
    const base = callParams(sid, config);
    await twilio.post('/twilio/voice', base);
    const res = await twilio.post('/twilio/gather?step=1', { ...base, SpeechResult: 'hello again', Confidence: '0.9' });
    expect(await answerOf(res, base)).toBe('Still here.');
    // The killed worker's heartbeat ages out within HEARTBEAT_TTL_MS (10 s).
    const health = await waitFor(async () => {
      const r = await ready();
      return r.body.checks.queue.workers === 2 && r;
    }, 15_000);
    expect(health.status).toBe(200);
    expect(health.body.checks.queue).toMatchObject({ status: 'up', waiting: 0, active: 0, workers: 2 });
    expect(health.body.checks.worker).toMatchObject({ status: 'up', count: 2 });
  }, 30_000);
});
