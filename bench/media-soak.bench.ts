/**
 * npm run bench:media:soak — 1,000 calls through one api process (the build, probe preloaded),
 * BENCH_SOAK_CONCURRENCY (default 20) at a time. Each call: signed voice webhook, signed socket,
 * `start`, the greeting synthesised (real espeak-ng + sox child processes) and interrupted by a
 * speech burst (barge-in: clear, TTS killed), ~2 s of audio, `stop`. Every 100 calls, after a GC:
 * heap, RSS, active handles, live child processes, live calls and the call keys left in Redis.
 * Flat numbers = nothing leaks per call. Not a timed test: numbers for docs/BENCHMARKS.md.
 */
import { Redis } from 'ioredis';
import { ensureBuilt } from '../test/support/worker-pool.js';
import { ApiUnderTest, LoadStream, callKeys, startTicker } from './media-support.js';
import { freePort, machine } from './support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:63799/4';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:54329/switchboard_test_media';
const CALLS = Number(process.env.BENCH_SOAK_CALLS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_SOAK_CONCURRENCY ?? 20);
const CALL_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  ensureBuilt();
  const redis = new Redis(REDIS_URL);
  await redis.flushdb();
  const api = await ApiUnderTest.start(freePort(), { REDIS_URL, DATABASE_URL });
  const streams = new Set<LoadStream>();
  const stopTicker = startTicker(streams);
  const rows: string[] = [];
  const started = Date.now();
  let done = 0;
  let bargeIns = 0;
  let failed = 0;

  const snapshot = async (label: string) => {
    await sleep(1500); // let the last calls' stop/cleanup land
    const s = await api.sample();
    const keys = await callKeys(REDIS_URL);
    rows.push(`| ${label} | ${(s.heapUsed / 2 ** 20).toFixed(1)} | ${(s.rss / 2 ** 20).toFixed(1)} | ${s.handles} | ${s.children} | ${s.liveCalls} | ${keys} |`);
    process.stderr.write(`${rows.at(-1)}\n`);
  };

  /** One call from webhook to stop; the first speech burst lands ~1 s in, over the greeting. */
  const oneCall = async () => {
    const stream = new LoadStream(api.url, 200, 150);
    try {
      await stream.open();
      streams.add(stream);
      await sleep(CALL_MS);
      stream.stop();
      await sleep(200);
      bargeIns += stream.bargeIns.length;
    } catch {
      failed++;
    } finally {
      streams.delete(stream);
      stream.close();
      done++;
    }
  };

  try {
    await sleep(2000);
    await snapshot('before (0 calls)');
    // Batches of 100 calls (CONCURRENCY at a time), a snapshot after each with nothing in flight.
    while (done < CALLS) {
      const batchEnd = Math.min(CALLS, done + 100);
      let next = done;
      const runner = async () => {
        while (next < batchEnd) {
          next++;
          await oneCall();
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, runner));
      await snapshot(`${done} calls`);
    }
    stopTicker();
    process.stdout.write(`\nMachine: ${machine()}. Date: ${new Date().toISOString()}. ${CALLS} calls, ${CONCURRENCY} concurrent, ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s, ${bargeIns} barge-ins, ${failed} failed.\n\n`);
    process.stdout.write('| after | heap used MB | RSS MB | active handles | child processes | live calls | call keys in Redis |\n|---|---:|---:|---:|---:|---:|---:|\n');
    process.stdout.write(rows.join('\n') + '\n');
  } finally {
    await api.stop();
    await redis.flushdb();
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
