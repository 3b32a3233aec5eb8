/**
 * npm run bench:media:offline — the offline stream pipeline end to end: real caller speech
 * (espeak-ng, 8 kHz μ-law, 20 ms frames at real time) into ONE api process (the build) with ONE
 * worker (the built-in agent), energy VAD → pocketsphinx → agent turn on the worker → espeak-ng.
 * Measured at the caller, as a person would feel it: end of speech (the last frame of the
 * utterance left the caller) → first agent audio frame received. Not a timed test.
 *
 * Each configuration runs 1 call, then BENCH_CALLS (default 20) calls that all speak at once,
 * BENCH_TURNS (default 3) turns each. Baseline in the same run (default BENCH_CONFIGS=nospec,resident):
 * the same pipeline with speculative turns off (MEDIA_SPECULATIVE_MS=0). `baseline` is main's
 * pipeline (POCKETSPHINX_MODE=process: a pocketsphinx_continuous per utterance with unbounded
 * beams, no synthesis cache). Requests that end the call (a person, goodbye) are left out: the bench has
 * no fake of Twilio's REST API.
 *
 * Env: DATABASE_URL, REDIS_URL (migrated database; Redis db is flushed; default: this checkout's
 * services from scripts/services.sh, the test database `npm test` migrated, Redis db 4), BENCH_CONFIGS
 * (comma list of nospec,resident,baseline,resident-eot400).
 */
import { loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { mulawLevelDb } from '#libs/media';
import { TwilioMediaClient } from '../scripts/call/media-client.js';
import { ensureBuilt } from '../test/support/worker-pool.js';
import { loadPhraseSet, sayAs } from '../test/support/phrase-set.js';
import { ACCOUNT_SID, answerStreamCall, ApiUnderTest, AUTH_TOKEN, percentile, PUBLIC_BASE_URL } from './media-support.js';
import { freePort, machine, startProcess, stopProcess } from './support.js';

/** DATABASE_URL/REDIS_URL when given, else this checkout's services (scripts/services.sh: the test database `npm test` migrated, Redis db 4). */
function serviceUrls(): { REDIS_URL: string; DATABASE_URL: string } {
  if (process.env.DATABASE_URL && process.env.REDIS_URL) return { REDIS_URL: process.env.REDIS_URL, DATABASE_URL: process.env.DATABASE_URL };
  const urls = Object.fromEntries(execFileSync('bash', ['scripts/services.sh', 'up'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  const db = new URL(urls.DATABASE_URL);
  if (!db.pathname.endsWith('_test')) db.pathname += '_test';
  const redis = new URL(urls.REDIS_URL);
  redis.pathname = '/4';
  return { REDIS_URL: redis.toString(), DATABASE_URL: db.toString() };
}
const { REDIS_URL, DATABASE_URL } = serviceUrls();
const CALLS = Number(process.env.BENCH_CALLS ?? 20);
const TURNS = Number(process.env.BENCH_TURNS ?? 3);
const CONFIGS: Record<string, { label: string; env: Record<string, string> }> = {
  baseline: { label: 'baseline: main (process per utterance, unbounded beams, no TTS cache)', env: { POCKETSPHINX_MODE: 'process', MEDIA_TTS_CACHE_MB: '0' } },
  nospec: { label: 'resident pool (2 decoders) + sentence cache, warmed, speculation off (MEDIA_SPECULATIVE_MS=0)', env: { POCKETSPHINX_MODE: 'resident', MEDIA_SPECULATIVE_MS: '0' } },
  resident: { label: 'resident pool + cache + speculative turns (MEDIA_SPECULATIVE_MS=250, the default)', env: { POCKETSPHINX_MODE: 'resident', MEDIA_SPECULATIVE_MS: '250' } },
  'resident-eot400': { label: 'resident, MEDIA_END_OF_TURN_MS=400', env: { POCKETSPHINX_MODE: 'resident', MEDIA_END_OF_TURN_MS: '400' } },
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The utterance without its trailing silence, so "the last frame sent" is the end of speech. */
function trimmed(mulaw: Buffer): Buffer {
  let end = mulaw.length;
  while (end > 160 && mulawLevelDb(mulaw.subarray(end - 160, end)) < -45) end -= 160;
  return mulaw.subarray(0, end);
}

interface TurnResult {
  latencyMs?: number;
}

/** One caller: answers the greeting, then says `utterances` one after another, each after the agent fell quiet. */
class Caller {
  readonly callSid = 'CA' + randomBytes(16).toString('hex');
  client!: TwilioMediaClient;

  constructor(private readonly api: string) {}

  async open(): Promise<void> {
    const token = await answerStreamCall(this.api, this.callSid);
    this.client = new TwilioMediaClient({ apiUrl: this.api, publicBaseUrl: PUBLIC_BASE_URL, authToken: AUTH_TOKEN });
    await this.client.connect();
    this.client.start(this.callSid, ACCOUNT_SID, token);
    this.client.startAudio();
  }

  /** Waits until the agent has been silent for `quietMs` (and every mark came back), at most `maxMs`. */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const deadline = performance.now() + maxMs;
    while (performance.now() < deadline) {
      const last = this.client.received.at(-1)?.at ?? 0;
      if (performance.now() - last > quietMs) return;
      await sleep(50);
    }
  }

  async turn(audio: Buffer): Promise<TurnResult> {
    await this.client.say(audio);
    const end = performance.now();
    const from = this.client.received.length;
    const deadline = end + 15_000;
    while (performance.now() < deadline) {
      const first = this.client.received.slice(from).find((x) => x.kind === 'media');
      if (first) return { latencyMs: first.at - end };
      await sleep(5);
    }
    return {};
  }

  close(): void {
    this.client.stop(this.callSid, ACCOUNT_SID);
    this.client.close();
  }
}

async function scenario(api: string, calls: number, utterances: Buffer[][]): Promise<{ latencies: number[]; missed: number }> {
  const callers = Array.from({ length: calls }, () => new Caller(api));
  await Promise.all(callers.map((c) => c.open()));
  await Promise.all(callers.map((c) => c.quiet(1000, 20_000))); // the greeting played out
  const latencies: number[] = [];
  let missed = 0;
  for (let t = 0; t < TURNS; t++) {
    // Everyone speaks at once (each a different request), then waits for the answer to finish.
    const results = await Promise.all(callers.map((c, i) => c.turn(utterances[i % utterances.length][t % utterances[0].length])));
    for (const r of results) (r.latencyMs === undefined ? missed++ : latencies.push(r.latencyMs));
    await Promise.all(callers.map((c) => c.quiet(1200, 20_000)));
  }
  for (const c of callers) c.close();
  await sleep(1000);
  return { latencies, missed };
}

async function main(): Promise<void> {
  ensureBuilt();
  const set = loadPhraseSet();
  // Requests that keep the call going (routing and FAQ), each caller its own sequence of three.
  const keep = set.phrases.filter((p) => !['human', 'goodbye'].includes(p.intent));
  const audio = await Promise.all(keep.map((p) => sayAs(p.text, set.voices[0]).then(trimmed)));
  const utterances = Array.from({ length: Math.max(CALLS, 1) }, (_, i) => Array.from({ length: TURNS }, (_, t) => audio[(i * 7 + t * 3) % audio.length]));
  const configs = (process.env.BENCH_CONFIGS ?? 'nospec,resident').split(',');
  const rows: string[] = [];
  const redis = new Redis(REDIS_URL);
  for (const name of configs) {
    const config = CONFIGS[name];
    await redis.flushdb();
    const env = { REDIS_URL, DATABASE_URL, PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, LOG_LEVEL: 'error', NODE_ENV: 'test', ...config.env };
    const workerPort = freePort();
    const worker = await startProcess(['dist/apps/worker/src/main.js'], { ...env, WORKER_PORT: String(workerPort) }, `http://127.0.0.1:${workerPort}/health/ready`);
    const api = await ApiUnderTest.start(freePort(), { ...env, MEDIA_STT_PROVIDER: 'pocketsphinx' });
    try {
      await sleep(4000); // start-up warm-up (decoders loaded, fixed sentences cached) where configured
      for (const calls of [1, CALLS]) {
        const { latencies, missed } = await scenario(api.url, calls, utterances);
        const f = (q: number) => percentile(latencies, q).toFixed(0);
        rows.push(`| ${config.label} | ${calls} | ${latencies.length + missed} | **${f(0.5)}** | **${f(0.95)}** | ${f(1 - 1e-9)} | ${missed} |`);
        process.stderr.write(`${rows.at(-1)}\n`);
      }
    } finally {
      await api.stop();
      await stopProcess(worker);
    }
  }
  redis.disconnect();
  process.stdout.write(`\nMachine: ${machine()} (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end). Date: ${new Date().toISOString()}. ${TURNS} turns per call; caller voice ${set.voices[0].voice} at ${set.voices[0].rate} wpm.\n\n`);
  process.stdout.write('| pipeline | concurrent calls | turns | end of speech → first agent audio p50 ms | p95 ms | max ms | turns unanswered |\n|---|---:|---:|---:|---:|---:|---:|\n');
  process.stdout.write(rows.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
