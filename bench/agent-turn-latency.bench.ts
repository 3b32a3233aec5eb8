/**
 * npm run bench:agent-turn — what the queue and the worker add to one agent turn, at a fixed
 * 100 turns/s (open loop), with an instant model: one worker process (the built app,
 * AI_PROVIDER=openai) against the fake OpenAI server answering at once (no simulated latency),
 * turns enqueued and awaited through the api's own AgentTurnQueue (reply channel).
 *
 * Per turn: total = enqueue start → the waiting side has the result; provider = the time the
 * worker spent in the provider (HTTP to the fake included); added = total − provider.
 * Baseline in the same run: a Redis PING round trip and one request to the fake model.
 *
 * Uses the real agent-turns queue of REDIS_URL (BENCH_REDIS_URL overrides): point it at a db
 * nobody else uses.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type AppConfig } from '#libs/config';
import { PiiRedactor } from '#libs/redaction';
import { AgentTurnQueue, QueueName, type AgentTurnJobData, type AgentTurnJobResult } from '#libs/queues';
import { bullConnectionOptions, redisOptions } from '#libs/redis';
import { FakeOpenAi } from '../test/support/fake-openai.js';
import { ensureBuilt, spawnWorker, stopWorker } from '../test/support/worker-pool.js';
import { machine } from './support.js';

const RATE = Number(process.env.BENCH_RATE ?? 100);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 15);
const WARMUP_S = 2;
const config = loadConfig({ ...process.env, REDIS_URL: process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL });

/** utime + stime of a process in ms (Linux /proc; clock ticks of 10 ms). */
function workerCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const row = (name: string, values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return `| ${name} | ${s.length} | ${pct(s, 0.5).toFixed(2)} | ${pct(s, 0.95).toFixed(2)} | ${pct(s, 0.99).toFixed(2)} |`;
};

async function main(): Promise<void> {
  ensureBuilt();
  const fake = new FakeOpenAi();
  await fake.start();
  fake.responder = () => ({ kind: 'text', text: "We're open Monday to Friday, 8 am to 6 pm." });
  const connection = bullConnectionOptions(config.REDIS_URL);
  const queue = new Queue<AgentTurnJobData, AgentTurnJobResult>(QueueName.AgentTurns, { connection, prefix: 'sb' });
  await queue.obliterate({ force: true });
  await queue.resume();
  const redis = new Redis(config.REDIS_URL, redisOptions({ enableOfflineQueue: true }));
  const turns = new AgentTurnQueue(queue, redis, config, new PiiRedactor(config as AppConfig));
  const worker = await spawnWorker('w1', {
    PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
    TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN,
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    AI_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.url('w1'),
    OPENAI_MODEL: 'fake-model',
    WORKER_CONCURRENCY: '16',
  }, config.REDIS_URL, process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean)); // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"

  // Baselines of the same run.
  const ping: number[] = [];
  const model: number[] = [];
  for (let i = 0; i < 300; i++) {
    let t = performance.now();
    await redis.ping();
    ping.push(performance.now() - t);
    t = performance.now();
    const res = await fetch(`${fake.url('base')}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    model.push(performance.now() - t);
  }

  const run = randomBytes(4).toString('hex');
  let cpuAtStart = 0;
  const total: number[] = [];
  const provider: number[] = [];
  const added: number[] = [];
  let failed = 0;
  const count = RATE * (WARMUP_S + DURATION_S);
  const start = performance.now() + 50;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const callSid = `CA${run}${String(i).padStart(24, '0')}`;
    inflight.push(
      (async () => {
        const t0 = performance.now();
        const jobId = await turns.enqueue({
          callSid, step: 1, agentName: 'default', input: { kind: 'speech', text: 'what are your opening hours', confidence: 0.9 },
          history: [], state: {}, receivedAt: Date.now(),
        });
        const outcome = await turns.waitFor(jobId, 5000);
        const ms = performance.now() - t0;
        if (i === RATE * WARMUP_S - 1) cpuAtStart = workerCpuMs(worker.pid);
        if (i < RATE * WARMUP_S) return;
        if (outcome.state !== 'done') {
          if (failed++ === 0) console.error('first failed turn:', JSON.stringify(outcome));
          return;
        }
        total.push(ms);
        provider.push(outcome.result.providerMs);
        added.push(ms - outcome.result.providerMs);
      })(),
    );
  }
  await Promise.all(inflight);
  const cpuPerTurn = (workerCpuMs(worker.pid) - cpuAtStart) / (count - RATE * WARMUP_S);
  await stopWorker(worker, 8000);
  await turns.onModuleDestroy();
  await queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
  await fake.stop();

  console.log(`\n${new Date().toISOString()} · ${machine()} · ${RATE} turns/s for ${DURATION_S} s (after ${WARMUP_S} s warm-up), 1 worker, failed ${failed}\n`);
  console.log('| measurement | n | p50 ms | p95 ms | p99 ms |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(row('baseline: Redis PING round trip', ping));
  console.log(row('baseline: one request to the fake model', model));
  console.log(row('turn total (enqueue → result at the waiting side)', total));
  console.log(row('provider time inside the worker', provider));
  console.log(row('**queue + worker added** (total − provider)', added));
  console.log(`\nworker CPU per turn (user + system, /proc): ${cpuPerTurn.toFixed(2)} ms`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
