import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { TRANSCRIPT_GROUP } from '#libs/queues';
import { RedisKeys } from '#libs/redis';
import {
  FakeTwilio, callParams, database, newCallSid, redis as redisClient, resetState, sayText, startApi, testConfig, twimlUrl, waitFor, type Running,
} from './support/harness.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { ensureBuilt, spawnWorker, stopWorker, type WorkerProcess } from './support/worker-pool.js';

// The transcript write path under a crash between "accepted" and "written": webhooks append
// their writes to a Redis stream; a worker process reads a batch and is SIGKILLed before its
// Postgres transaction commits (Postgres hangs behind a relay). Another worker must claim the
// dead worker's entries and store every turn exactly once, in order; entries replayed after a
// commit (a worker that died before acknowledging) must change nothing.
const config = testConfig({ TURN_WAIT_MS: '8000' });
const proxy = TcpProxy.forUrl(config.DATABASE_URL);
const workers: WorkerProcess[] = [];
let api: Running;
let twilio: FakeTwilio;
let db: pg.Pool;
let r: Redis;
let spawning: Promise<WorkerProcess> | undefined;

function workerEnv(databaseUrl: string): Record<string, string> {
  return {
    PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
    TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN,
    DATABASE_URL: databaseUrl,
    REDIS_URL: config.REDIS_URL,
    TRANSCRIPT_CLAIM_IDLE_MS: '1500',
    TRANSCRIPT_BATCH_SIZE: '500',
    LOG_LEVEL: 'warn',
  };
}

async function storedTurns(callSid: string) {
  const { rows } = await db.query('SELECT seq, speaker, text FROM turns WHERE "callSid" = $1 ORDER BY seq', [callSid]);
  return rows as { seq: number; speaker: string; text: string }[];
}

beforeAll(async () => {
  ensureBuilt();
  await resetState();
  db = database();
  r = redisClient(config.REDIS_URL);
  // Kept as a promise too: afterAll stops the worker even if this hook timed out while it started.
  spawning = proxy.proxiedUrl(config.DATABASE_URL).then((url) => spawnWorker('doomed', workerEnv(url), config.REDIS_URL));
  workers.push(await spawning);
  api = await startApi(config);
  twilio = new FakeTwilio(api.url, config);
}, 180_000); // ensureBuilt may compile the apps on a busy machine

afterAll(async () => {
  await api?.close();
  const late = await spawning?.catch(() => undefined);
  if (late && !workers.includes(late)) workers.push(late);
  await Promise.all(workers.map((w) => stopWorker(w)));
  await proxy.stop();
  await db?.end();
  r?.disconnect();
});

describe('transcript stream', () => {
  it('a worker killed after reading a batch and before its commit: another worker stores each turn once, in order', async () => {
    const doomed = workers[0];
    proxy.hang(); // the doomed worker's Postgres stops answering: its batch can never commit

    // Three calls, three turns each, while nothing can reach Postgres: every webhook still answers.
    const said = new Map<string, string[]>();
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        const sid = newCallSid();
        const base = callParams(sid, config);
        const spoken: string[] = [];
        const voice = await twilio.post('/twilio/voice', base);
        expect(voice.status).toBe(200);
        spoken.push(...sayText(voice.body));
        let next = FakeTwilio.pathOf(twimlUrl(voice.body, 'Gather')!);
        for (const words of ['I need help with my bill', 'what are your opening hours', 'and where are you located']) {
          const res = await twilio.post(next, { ...base, SpeechResult: words, Confidence: '0.92' });
          expect(res.status).toBe(200);
          const answer = sayText(res.body);
          expect(answer.length).toBeGreaterThan(0);
          spoken.push(words, ...answer);
          const gather = twimlUrl(res.body, 'Gather');
          expect(gather).toBeDefined();
          next = FakeTwilio.pathOf(gather!);
        }
        said.set(sid, spoken);
      }),
    );

    // Accepted: every write is on the stream, read by the doomed worker, none acknowledged or stored.
    const key = RedisKeys.transcriptStream();
    const pending = await waitFor(async () => {
      const [count, , , consumers] = (await r.xpending(key, TRANSCRIPT_GROUP)) as [number, string, string, [string, string][] | null];
      return count >= 12 && consumers?.length === 1 && consumers[0][0].endsWith(`-${doomed.pid}`) && count;
    }, 20_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: pending ${JSON.stringify(await r.xpending(key, TRANSCRIPT_GROUP))}, length ${await r.xlen(key)}, worker: ${doomed.output.join('').slice(-2000)}`);
    });
    expect(pending).toBe(12); // 3 calls × (greeting + 3 turns)
    const accepted = (await r.xrange(key, '-', '+')) as [string, string[]][];
    expect(accepted).toHaveLength(12);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM turns');
    expect(rows[0].n).toBe(0);

    doomed.child.kill('SIGKILL');
    await doomed.exited;
    proxy.restore();

    // A new worker takes the dead one's entries over once they have been idle long enough.
    workers.push(await spawnWorker('heir', workerEnv(config.DATABASE_URL), config.REDIS_URL));
    const drained = async () => (await r.xlen(key)) === 0 && Number(((await r.xpending(key, TRANSCRIPT_GROUP)) as [number])[0]) === 0;
    await waitFor(drained, 30_000);
    const stored = new Map<string, Awaited<ReturnType<typeof storedTurns>>>();
    for (const [sid, spoken] of said) {
      const turns = await storedTurns(sid);
      stored.set(sid, turns);
      // Every turn once, numbered without gaps, caller and agent alternating as they were spoken
      // (tool turns, e.g. route_department, sit between a caller turn and the agent's answer).
      expect(turns.map((t) => t.seq)).toEqual(turns.map((_, i) => i + 1));
      const spokenTurns = turns.filter((t) => t.speaker !== 'tool');
      expect(spokenTurns.map((t) => t.text)).toEqual(spoken);
      expect(spokenTurns.map((t) => t.speaker)).toEqual(spoken.map((_, i) => (i % 2 === 0 ? 'agent' : 'caller')));
    }

    // The same writes again (a worker that committed and died before acknowledging): stored once.
    for (const [, fields] of accepted) await r.xadd(key, '*', ...fields);
    await waitFor(drained, 10_000);
    for (const [sid, turns] of stored) expect(await storedTurns(sid)).toEqual(turns);
    const total = await db.query('SELECT count(*)::int AS n FROM turns');
    expect(total.rows[0].n).toBe([...stored.values()].reduce((n, t) => n + t.length, 0));
  }, 120_000);
});
