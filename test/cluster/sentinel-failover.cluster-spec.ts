import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { database, startApi, startWorker, testConfig, type Running } from '../support/harness.js';
import { fetchPoster, playGatherCall, type GatherCallLog } from '../support/call-driver.js';
import { healthStatus, SentinelGroup, until } from '../support/cluster.js';

/**
 * REDIS_URL names a Sentinel-managed master; the replica is promoted while calls are live.
 * The apps must follow the new master by themselves (no restart), callers hear at worst an
 * apology, and every caller turn the server accepted is stored exactly once.
 */
const group = new SentinelGroup();
const running: Running[] = [];
let db: pg.Pool;
let api: Running;
let worker: Running;
let config: ReturnType<typeof testConfig>;

beforeAll(async () => {
  await group.start();
  db = database();
  config = testConfig({ REDIS_URL: group.url(0), TURN_WAIT_MS: '6000' });
  worker = await startWorker(config);
  api = await startApi(config);
  running.push(api, worker);
}, 60_000);

afterAll(async () => {
  // Bounded: a BullMQ worker may wait on a job whose key the failover took away.
  const closing = Promise.all(running.splice(0).map((r) => r.close().catch(() => undefined)));
  await Promise.race([closing, new Promise((r) => setTimeout(r, 20_000))]);
  await db?.end();
  await group.stop();
}, 60_000);

const UTTERANCES = ['I need help with my bill', 'what are your opening hours', 'do you have a refund policy', 'goodbye'];

async function callerTurns(callSid: string): Promise<string[]> {
  const { rows } = await db.query('SELECT text FROM turns WHERE "callSid" = $1 AND speaker = $2 ORDER BY seq', [callSid, 'caller']);
  return rows.map((r) => r.text as string);
}

describe('Redis Sentinel failover during live calls', () => {
  it('calls continue, no turn is lost, and the apps reconnect to the promoted replica without a restart', async () => {
    await until('api ready on the sentinel master', async () => (await healthStatus(`${api.url}/health/ready`)) === 200, 20_000);
    const oldMaster = await group.masterPort();

    // Every call waits at its second turn until the failover has started: the failover happens
    // with all of them live (sessions, locks and queued turns in Redis).
    let failoverStarted!: () => void;
    const started = new Promise<void>((r) => (failoverStarted = r));
    let atSecondTurn = 0;
    const CALLS = 4;
    const allAtSecondTurn = until('every call at its second turn', async () => atSecondTurn === CALLS, 60_000, 50);
    const calls = Array.from({ length: CALLS }, () =>
      playGatherCall({
        apiUrl: api.url,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        authToken: config.TWILIO_AUTH_TOKEN,
        accountSid: config.TWILIO_ACCOUNT_SID,
        utterances: UTTERANCES,
        post: fetchPoster,
        between: async (turn) => {
          if (turn === 2) {
            atSecondTurn++;
            await started;
          }
        },
      }),
    );
    await allAtSecondTurn;
    const promotion = group.failover();
    failoverStarted();
    const newMaster = await promotion;
    expect(newMaster).not.toBe(oldMaster);
    const logs: GatherCallLog[] = await Promise.all(calls);

    for (const log of logs) {
      // Calls go on to the end: the agent says goodbye; an apology at worst on the way.
      expect({ callSid: log.callSid, outcome: log.outcome, failures: log.failures }).toEqual({ callSid: log.callSid, outcome: 'hangup', failures: [] });
      expect(log.spoken).toEqual(UTTERANCES);
    }
    // Every accepted caller turn reaches Postgres exactly once (through the queue on the new master).
    for (const log of logs) {
      const stored = await until(`turns of ${log.callSid}`, async () => {
        const turns = await callerTurns(log.callSid);
        return turns.length >= UTTERANCES.length && turns;
      }, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(await callerTurns(log.callSid)).toEqual(stored);
      for (const text of UTTERANCES) expect({ text, times: stored.filter((t) => t === text).length }).toEqual({ text, times: 1 });
    }

    // The same processes, now on the promoted replica: ready, and a new call is answered by the agent.
    await until('api ready after failover', async () => (await healthStatus(`${api.url}/health/ready`)) === 200, 20_000);
    await until('worker ready after failover', async () => (await healthStatus(`${worker.url}/health/ready`)) === 200, 20_000);
    const after = await playGatherCall({
      apiUrl: api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN, accountSid: config.TWILIO_ACCOUNT_SID,
      utterances: ['I need help with my bill', 'goodbye'], post: fetchPoster,
    });
    expect(after).toMatchObject({ outcome: 'hangup', failures: [], apologies: 0 });
    await until('the new call stored', async () => (await callerTurns(after.callSid)).length === 2, 20_000);
  }, 120_000);
});
