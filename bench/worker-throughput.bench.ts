/**
 * npm run bench:worker-throughput — agent turns per second through 1 and then 3 worker processes
 * (the built app, AI_PROVIDER=openai, WORKER_CONCURRENCY=16 each) against the fake OpenAI server
 * answering every request after 500 ms of simulated model latency (streamed). Not a timed test.
 *
 * Closed loop: OUTSTANDING turns are always enqueued (a finished one is replaced at once), more
 * than 3 workers can hold, so every configuration runs saturated. The 1-worker run is the
 * baseline of the same run; the ideal is workers × concurrency / 0.5 s.
 *
 * Uses the real agent-turns queue of REDIS_URL: point it at a Redis db nobody else uses.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { loadConfig } from '#libs/config';
import { JobIds, QueueName, type AgentTurnJobData, type AgentTurnJobResult } from '#libs/queues';
import { bullConnectionOptions } from '#libs/redis';
import { FakeOpenAi } from '../test/support/fake-openai.js';
import { ensureBuilt, spawnWorker, stopWorker, type WorkerProcess } from '../test/support/worker-pool.js';
import { machine } from './support.js';

const MODEL_LATENCY_MS = 500;
const CONCURRENCY = 16;
const OUTSTANDING = Number(process.env.BENCH_OUTSTANDING ?? 64);
const WARMUP_S = 2;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 15);
const config = loadConfig();
const connection = bullConnectionOptions(config.REDIS_URL, { blocking: true });

interface Result {
  workers: number;
  turns: number;
  turnsPerSecond: number;
  p50: number;
  p99: number;
  failed: number;
  perWorker: Record<string, number>;
}

async function run(fake: FakeOpenAi, count: number): Promise<Result> {
  const queue = new Queue<AgentTurnJobData, AgentTurnJobResult>(QueueName.AgentTurns, { connection, prefix: 'sb' });
  // obliterate() pauses the queue on its way: resume it, or the workers would sit idle.
  await queue.obliterate({ force: true });
  await queue.resume();
  const workers: WorkerProcess[] = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      spawnWorker(`w${i + 1}`, {
        PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
        TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN,
        DATABASE_URL: config.DATABASE_URL,
        REDIS_URL: config.REDIS_URL,
        AI_PROVIDER: 'openai',
        OPENAI_BASE_URL: fake.url(`w${i + 1}`),
        OPENAI_MODEL: 'fake-model',
        WORKER_CONCURRENCY: String(CONCURRENCY),
      }, config.REDIS_URL),
    ),
  );
  const events = new QueueEvents(QueueName.AgentTurns, { connection, prefix: 'sb' });
  await events.waitUntilReady();

  const run = randomBytes(4).toString('hex');
  const enqueuedAt = new Map<string, number>();
  const latencies: number[] = [];
  const perWorker: Record<string, number> = {};
  let n = 0;
  let failed = 0;
  let measuring = false;
  let stopped = false;

  const enqueue = async () => {
    if (stopped) return;
    const callSid = `CA${run}${String(++n).padStart(24, '0')}`;
    const jobId = JobIds.agentTurn(callSid, 1);
    enqueuedAt.set(jobId, performance.now());
    await queue.add('turn', {
      callSid, step: 1, agentName: 'default', input: { kind: 'speech', text: 'what are your opening hours' }, history: [], state: {}, receivedAt: Date.now(),
    }, { jobId, removeOnComplete: true, removeOnFail: true });
  };
  const settle = (jobId: string, ok: boolean, worker?: string) => {
    const started = enqueuedAt.get(jobId);
    if (started === undefined) return;
    enqueuedAt.delete(jobId);
    if (measuring) {
      if (ok) {
        latencies.push(performance.now() - started);
        if (worker) perWorker[worker] = (perWorker[worker] ?? 0) + 1;
      } else failed++;
    }
    void enqueue();
  };
  events.on('completed', ({ jobId, returnvalue }) => {
    const result = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as AgentTurnJobResult;
    settle(jobId, true, result?.worker);
  });
  events.on('failed', ({ jobId }) => settle(jobId, false));

  await Promise.all(Array.from({ length: OUTSTANDING }, enqueue));
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, DURATION_S * 1000));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  stopped = true;

  await Promise.all(workers.map((w) => stopWorker(w, 8000)));
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return { workers: count, turns: latencies.length, turnsPerSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99), failed, perWorker };
}

async function main(): Promise<void> {
  ensureBuilt();
  const fake = new FakeOpenAi();
  await fake.start();
  fake.responder = () => ({ kind: 'text', text: "We're open Monday to Friday, 8 am to 6 pm.", delayMs: MODEL_LATENCY_MS });
  const results: Result[] = [];
  for (const count of [1, 3]) results.push(await run(fake, count));
  await fake.stop();

  console.log(`# agent turns through the worker pool, ${new Date().toISOString()}, ${machine()}`);
  console.log(`# model latency ${MODEL_LATENCY_MS} ms (fake OpenAI, streamed), concurrency ${CONCURRENCY}/worker, ${OUTSTANDING} turns outstanding, ${DURATION_S} s measured`);
  console.table(
    results.map((r) => ({
      workers: r.workers,
      'turns/s': r.turnsPerSecond.toFixed(1),
      'ideal turns/s': ((r.workers * CONCURRENCY * 1000) / MODEL_LATENCY_MS).toFixed(0),
      'turn p50 ms': r.p50,
      'turn p99 ms': r.p99,
      failed: r.failed,
      'per worker': Object.values(r.perWorker).join(' / '),
    })),
  );
  console.log(`speed-up with 3 workers: ${(results[1].turnsPerSecond / results[0].turnsPerSecond).toFixed(2)}×`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
