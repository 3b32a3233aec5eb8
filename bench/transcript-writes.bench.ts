/**
 * npm run bench:transcripts — transcript writes per second into Postgres through the worker's
 * stream consumer (the built worker app, one process), sustained over a backlog of
 * BENCH_TURNS turns (default 100,000) shaped like the gather flow's writes: per webhook one entry
 * with the call record, the caller's turn, the agent's answer and an event.
 *
 * Baseline of the same run: the path this replaced — one write per statement (the repository's
 * single-write call, 8 at a time like the BullMQ processor's concurrency), run in this process
 * straight against Postgres with no queue overhead at all (so it flatters the old path).
 *
 * Writes to DATABASE_URL (BENCH_DATABASE_URL overrides) with fresh call SIDs; uses the stream of
 * REDIS_URL (BENCH_REDIS_URL overrides): point it at a Redis db nobody else uses.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type AppConfig } from '#libs/config';
import { CallsRepository, PrismaService, TranscriptWritesRepository } from '#libs/database';
import { TranscriptStream, TRANSCRIPT_GROUP, type TranscriptJobData } from '#libs/queues';
import { RedisKeys } from '#libs/redis';
import { ensureBuilt, spawnWorker, stopWorker } from '../test/support/worker-pool.js';
import { machine } from './support.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 100_000);
const BASELINE_WRITES = Number(process.env.BENCH_BASELINE_WRITES ?? 3000);
const config = loadConfig({
  ...process.env,
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL,
  REDIS_URL: process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL,
});
const STEPS = 10; // webhooks per call

/** The write of webhook `step` of call `callSid` (2 turns + 1 event, as a gather turn writes). */
function write(callSid: string, step: number): TranscriptJobData {
  const at = new Date().toISOString();
  return {
    call: { callSid, accountSid: config.TWILIO_ACCOUNT_SID, direction: 'inbound', fromNumber: '+15005550006', toNumber: '+15005550001', mode: 'gather', agentName: 'default', startedAt: at },
    turns: [
      { callSid, seq: step * 2 + 1, speaker: 'caller', text: 'I need help with my bill please', confidence: 0.93, startedAt: at },
      { callSid, seq: step * 2 + 2, speaker: 'agent', text: "You're through to billing. What would you like to know about your bill?", latencyMs: 12, action: 'route', data: { intent: 'billing' }, startedAt: at },
    ],
    events: [{ callSid, type: 'turn', dedupeKey: `turn:${step}`, at }],
  };
}

async function main(): Promise<void> {
  ensureBuilt();
  const run = randomBytes(6).toString('hex');
  const db = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2 });
  const redis = new Redis(config.REDIS_URL);
  const key = RedisKeys.transcriptStream();
  await redis.del(key);

  // Baseline: one statement per write, 8 concurrent, in this process.
  const prisma = new PrismaService(config as AppConfig);
  const repo = new TranscriptWritesRepository(prisma, new CallsRepository(prisma));
  const toRecord = (d: TranscriptJobData) => ({ call: d.call!, turns: d.turns!, events: d.events!, status: d.status });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < BASELINE_WRITES) {
        const i = next++;
        await repo.write(toRecord(write(`CAb${run}${String(Math.floor(i / STEPS)).padStart(19, '0')}`, i % STEPS)));
      }
    }),
  );
  const baselineSeconds = (performance.now() - t0) / 1000;
  await prisma.$disconnect();

  const worker = await spawnWorker('tx', {
    PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
    TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN,
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    LOG_LEVEL: 'warn',
    TRANSCRIPT_BATCH_SIZE: String(config.TRANSCRIPT_BATCH_SIZE),
  }, config.REDIS_URL, process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean)); // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"

  // The backlog, appended as fast as Redis takes it (pipelines of 500) while the worker drains.
  const entries = Math.ceil(TURNS / 2);
  const started = performance.now();
  for (let i = 0; i < entries; i += 500) {
    const pipeline = redis.pipeline();
    for (let j = i; j < Math.min(entries, i + 500); j++) {
      const callSid = `CAs${run}${String(Math.floor(j / STEPS)).padStart(19, '0')}`;
      pipeline.xadd(key, '*', ...TranscriptStream.fields(`tx-${callSid}-s${j % STEPS}`, write(callSid, j % STEPS)));
    }
    await pipeline.exec();
  }
  const appended = performance.now();
  for (;;) {
    const [length, pending] = await Promise.all([redis.xlen(key), redis.xpending(key, TRANSCRIPT_GROUP).then((r) => Number((r as [number])[0]))]);
    if (length === 0 && pending === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const drained = performance.now();
  await stopWorker(worker, 8000);
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM turns WHERE "callSid" LIKE $1`, [`CAs${run}%`]);
  await db.end();
  redis.disconnect();

  const seconds = (drained - started) / 1000;
  console.log(`\n${new Date().toISOString()} · ${machine()}\n`);
  console.log('| path | writes (webhooks) | turns stored | seconds | turns/s |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(`| baseline: one statement per write, 8 concurrent, no queue | ${BASELINE_WRITES} | ${BASELINE_WRITES * 2} | ${baselineSeconds.toFixed(1)} | ${Math.round((BASELINE_WRITES * 2) / baselineSeconds)} |`);
  console.log(`| **stream → 1 worker, batches of ${config.TRANSCRIPT_BATCH_SIZE}** | ${entries} | ${rows[0].n} | ${seconds.toFixed(1)} | **${Math.round(rows[0].n / seconds)}** |`);
  console.log(`\nbacklog appended in ${((appended - started) / 1000).toFixed(1)} s; stored ${rows[0].n} of ${entries * 2} turns`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
