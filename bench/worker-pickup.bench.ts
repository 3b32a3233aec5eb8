/**
 * npm run bench:worker-pickup — how long an agent turn waits before a worker starts it, with the
 * worker idle (blocked on Redis, waiting for work). Not a timed test: numbers for docs/BENCHMARKS.md.
 *
 * 1. pickup: queue.add() → the processor starts, through a BullMQ Worker with the production
 *    agent-turn options (AGENT_TURN_WORKER_OPTIONS), on its own queue name so nothing real is touched.
 * 2. first token: AgentTurnQueue's job shape enqueued on the real agent-turns queue → the first
 *    token published by a real worker process (built app, local provider) arrives over pub/sub.
 * Baselines from the same run: a Redis PING round trip, and a bare LPUSH → BRPOP hand-off
 * between two connections (the floor of any Redis-backed queue).
 *
 * Needs the build (npm run build) and Redis/Postgres from .env, or REDIS_URL/DATABASE_URL.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '#libs/config';
import { AGENT_TURN_WORKER_OPTIONS, JobIds, QueueName, type AgentTurnJobData, type TurnEvent } from '#libs/queues';
import { bullConnectionOptions, RedisKeys } from '#libs/redis';
import { ensureBuilt, spawnWorker, stopWorker } from '../test/support/worker-pool.js';
import { machine } from './support.js';

const N = Number(process.env.BENCH_SAMPLES ?? 1000);
const IDLE_MS = 3; // between samples, so the worker is back in its blocking wait every time
const config = loadConfig();
const connection = bullConnectionOptions(config.REDIS_URL, { blocking: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(samples: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

async function measure(label: string, once: () => Promise<number>, rows: Record<string, string>[]): Promise<void> {
  for (let i = 0; i < 50; i++) await once(); // warm-up: connections, scripts loaded, JIT
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    samples.push(await once());
    await sleep(IDLE_MS);
  }
  const s = stats(samples);
  rows.push({ measurement: label, samples: String(N), p50: s.p50.toFixed(2), p99: s.p99.toFixed(2), max: s.max.toFixed(2) });
}

async function redisBaselines(rows: Record<string, string>[]): Promise<void> {
  const a = new Redis(config.REDIS_URL);
  const b = new Redis(config.REDIS_URL);
  const key = `bench:handoff:${randomBytes(4).toString('hex')}`;
  await measure('baseline: Redis PING round trip', async () => {
    const t = performance.now();
    await a.ping();
    return performance.now() - t;
  }, rows);
  await measure('baseline: LPUSH → BRPOP hand-off', async () => {
    const popped = b.brpop(key, 5);
    await sleep(1); // let BRPOP block first, as an idle worker would
    const t = performance.now();
    await a.lpush(key, 'x');
    await popped;
    return performance.now() - t;
  }, rows);
  a.disconnect();
  b.disconnect();
}

async function bullPickup(rows: Record<string, string>[]): Promise<void> {
  const name = `bench-pickup-${randomBytes(4).toString('hex')}`;
  const queue = new Queue(name, { connection, prefix: 'bench' });
  let started: (() => void) | undefined;
  const worker = new Worker(name, async () => started?.(), { connection, prefix: 'bench', concurrency: 16, ...AGENT_TURN_WORKER_OPTIONS });
  await worker.waitUntilReady();
  let n = 0;
  await measure('pickup: queue.add → processor starts (BullMQ, production options)', async () => {
    const picked = new Promise<number>((resolve) => (started = () => resolve(performance.now())));
    const t = performance.now();
    await queue.add('turn', { n }, { jobId: `j-${n++}`, removeOnComplete: true });
    return (await picked) - t;
  }, rows);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
}

async function firstToken(rows: Record<string, string>[]): Promise<void> {
  ensureBuilt();
  const worker = await spawnWorker('pickup', {
    PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
    TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN,
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    AI_PROVIDER: 'local',
  }, config.REDIS_URL);
  const queue = new Queue<AgentTurnJobData>(QueueName.AgentTurns, { connection, prefix: 'sb' });
  const sub = new Redis(config.REDIS_URL);
  let onToken: (() => void) | undefined;
  sub.on('message', (_channel: string, message: string) => {
    if ((JSON.parse(message) as TurnEvent).type === 'token') onToken?.();
  });
  const run = randomBytes(3).toString('hex');
  let step = 0;
  await measure('first token: enqueue → first token over pub/sub (worker process, local agent)', async () => {
    step++;
    const callSid = `CA${run}${'0'.repeat(26)}`;
    await sub.subscribe(RedisKeys.turnChannel(callSid, step));
    const got = new Promise<number>((resolve) => (onToken = () => resolve(performance.now())));
    const t = performance.now();
    await queue.add('turn', {
      callSid, step, agentName: 'default', input: { kind: 'speech', text: 'what are your opening hours' }, history: [], state: {}, receivedAt: Date.now(),
    }, { jobId: JobIds.agentTurn(callSid, step), removeOnComplete: true, removeOnFail: true });
    const latency = (await got) - t;
    onToken = undefined;
    await sub.unsubscribe(RedisKeys.turnChannel(callSid, step));
    return latency;
  }, rows);
  sub.disconnect();
  await queue.close();
  await stopWorker(worker);
}

async function main(): Promise<void> {
  const rows: Record<string, string>[] = [];
  await redisBaselines(rows);
  await bullPickup(rows);
  await firstToken(rows);
  console.log(`# worker pickup latency (ms), ${new Date().toISOString()}, ${machine()}`);
  console.table(rows);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
