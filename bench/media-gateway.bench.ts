/**
 * npm run bench:media — concurrent synthetic Twilio media streams (50 frames/s each: silence with
 * a 600 ms speech burst every 4 s, the first one over the agent's greeting) against ONE api
 * process (the build, with bench/media-probe.mjs preloaded to measure from inside it).
 * Not a timed test: numbers for docs/BENCHMARKS.md.
 *
 * Per load level: event-loop delay p99 of the api, frame handling p99 (the gateway's handler,
 * VAD included), RSS per call, barge-in timing (speech onset → `clear` at the caller; detection
 * → `clear` inside the api). Baseline in the same run: the idle api process.
 *
 * Env: REDIS_URL / DATABASE_URL (default: the media test db, Redis db 4 — flushed), BENCH_LEVELS
 * (default 50,100,200,300), BENCH_HOLD (s, default 10). STT is 'none' (the gateway is measured,
 * not pocketsphinx); TTS is the real espeak-ng for the greetings.
 */
import { Redis } from 'ioredis';
import { ensureBuilt } from '../test/support/worker-pool.js';
import { ApiUnderTest, LoadStream, percentile, startTicker, type ProbeSample } from './media-support.js';
import { freePort, machine } from './support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:63799/4';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:54329/switchboard_test_media';
const LEVELS = (process.env.BENCH_LEVELS ?? '50,100,200,300').split(',').map(Number);
const HOLD_S = Number(process.env.BENCH_HOLD ?? 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

async function main(): Promise<void> {
  ensureBuilt();
  const redis = new Redis(REDIS_URL);
  await redis.flushdb();
  const api = await ApiUnderTest.start(freePort(), { REDIS_URL, DATABASE_URL });
  const rows: string[] = [];
  try {
    await sleep(3000);
    await api.reset();
    await sleep(HOLD_S * 1000);
    const idle = await api.sample();
    rows.push(`| baseline: idle api (0 streams) | ${f(idle.loopP50)} | ${f(idle.loopP99)} | – | – | ${f(idle.rss / 2 ** 20, 1)} MB total | – | – |`);

    const streams = new Set<LoadStream>();
    const stopTicker = startTicker(streams);
    for (const level of LEVELS) {
      const added: LoadStream[] = [];
      while (streams.size < level) {
        const batch = Array.from({ length: Math.min(10, level - streams.size) }, () => new LoadStream(api.url, 200, 75 + Math.floor(Math.random() * 50)));
        await Promise.all(batch.map((s) => s.open()));
        for (const s of batch) (streams.add(s), added.push(s));
        await sleep(100);
      }
      await sleep(8000); // greetings synthesised and interrupted; steady state
      await api.reset();
      await sleep(HOLD_S * 1000);
      const s: ProbeSample = await api.sample();
      const barge = added.flatMap((x) => x.bargeIns);
      rows.push(
        `| ${level} streams | ${f(s.loopP50)} | **${f(s.loopP99)}** | ${f(s.frameP50, 3)} | **${f(s.frameP99, 3)}** | ${f((s.rss - idle.rss) / level / 1024, 0)} KB/call | ` +
          `${barge.length ? `${f(percentile(barge, 0.5), 0)} / **${f(percentile(barge, 0.99), 0)}** (n=${barge.length})` : '–'} | ${f(s.detectToClearP99, 3)} |`,
      );
      process.stderr.write(`${level} streams: loop p99 ${f(s.loopP99)} ms, frame p99 ${f(s.frameP99, 3)} ms, frames ${s.frames}, live calls ${s.liveCalls}\n`);
    }
    stopTicker();
    for (const s of streams) s.stop();
    await sleep(2000);
    for (const s of streams) s.close();
    await sleep(2000);
    const after = await api.sample();
    process.stdout.write(`\nMachine: ${machine()}. Date: ${new Date().toISOString()}. Hold ${HOLD_S} s per level.\n\n`);
    process.stdout.write('| load | loop delay p50 ms | loop delay p99 ms | frame handling p50 ms | frame handling p99 ms | RSS per call | barge-in onset → clear at caller p50 / p99 ms | detection → clear p99 ms |\n');
    process.stdout.write('|---|---:|---:|---:|---:|---:|---:|---:|\n');
    process.stdout.write(rows.join('\n') + '\n');
    process.stdout.write(`\nAfter all streams stopped: live calls ${after.liveCalls}, child processes ${after.children}, handles ${after.handles} (idle: ${idle.handles}).\n`);
  } finally {
    await api.stop();
    await redis.flushdb();
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
