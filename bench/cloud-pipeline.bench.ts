/**
 * npm run bench:cloud-pipeline — the pipeline engine with streaming cloud speech (Deepgram STT,
 * ElevenLabs TTS) against zero-latency local fakes, versus the offline pipeline (energy VAD +
 * pocketsphinx + espeak-ng) in the same run. One built api process per engine, one built worker
 * shared, real Postgres and Redis (the test database, Redis db 5 — flushed).
 *
 * Per caller utterance (a real espeak-ng recording played at real time over /twilio/media):
 *  - end of speech → first agent frame at the caller (what the caller feels; includes the
 *    provider's endpointing, 300 ms, or the offline VAD's end-of-turn silence, 600 ms);
 *  - the server's own share: first agent frame − the moment the turn was decided (the fake
 *    Deepgram's `speech_final` send time; for the offline engine, end of speech + 600 ms).
 * Both fakes answer at once (the TTS fake returns a ready-made tone), so the share is ours:
 * socket hops, the agent turn through BullMQ on the worker, and the TTS socket.
 * Engines, interleaved: cloud with speculative turns off (the baseline), on (default), on with
 * AGENT_LOCAL_IN_API, and the offline pipeline (BENCH_OFFLINE=0 leaves it out).
 * Env: BENCH_CALLS (default 4), BENCH_TURNS (utterances per call, default 5).
 * Not a timed test: numbers for docs/BENCHMARKS.md.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { TwilioMediaClient } from '../scripts/call/media-client.js';
import { FakeDeepgram } from '../test/support/fake-deepgram.js';
import { FakeElevenLabs } from '../test/support/fake-elevenlabs.js';
import { ensureBuilt, spawnWorker, stopWorker } from '../test/support/worker-pool.js';
import { ACCOUNT_SID, answerStreamCall, AUTH_TOKEN, PUBLIC_BASE_URL } from './media-support.js';
import { freePort, machine, startProcess, stopProcess } from './support.js';
import { EspeakSynthesizer, mulawLevelDb } from '#libs/media';

const CALLS = Number(process.env.BENCH_CALLS ?? 4);
const TURNS = Number(process.env.BENCH_TURNS ?? 5);
const END_OF_TURN_MS = 600;
const PHRASES = ['I need help with my bill', 'what are your opening hours', 'I need help with my bill', 'I want to buy a new plan', 'what are your opening hours'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/** A 400 ms tone per sentence: the TTS fake's "zero-latency" voice. */
function tone(): Buffer {
  const b = Buffer.alloc(3200);
  for (let i = 0; i < b.length; i++) b[i] = i % 8 < 4 ? 0x20 : 0xa0;
  return b;
}

/** Silence (below the VAD threshold) at the end of a recording, in ms. */
function trailingSilenceMs(mulaw: Buffer): number {
  let frames = 0;
  for (let end = mulaw.length; end >= 160 && mulawLevelDb(mulaw.subarray(end - 160, end)) < -45; end -= 160) frames++;
  return frames * 20;
}

/** Round trips of GET /health into the api processes, taken between the turns. */
const floor: number[] = [];

interface Sample {
  endToFrame: number;
  share: number;
}

async function runEngine(name: string, apiUrl: string, deepgram: FakeDeepgram | undefined, audio: Map<string, Buffer>, tts?: FakeElevenLabs): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let c = 0; c < CALLS; c++) {
    const callSid = 'CA' + (Date.now().toString(16) + c.toString(16) + '0'.repeat(32)).slice(0, 32);
    const token = await answerStreamCall(apiUrl, callSid);
    const caller = new TwilioMediaClient({ apiUrl, publicBaseUrl: PUBLIC_BASE_URL, authToken: AUTH_TOKEN });
    await caller.connect();
    caller.start(callSid, ACCOUNT_SID, token);
    caller.startAudio();
    // The greeting plays out (three marks) before the caller talks.
    for (let i = 0; i < 600 && caller.echoed.filter((e) => e.name.startsWith('a1.')).length < 3; i++) await sleep(20);
    for (let t = 0; t < TURNS; t++) {
      const phrase = PHRASES[t % PHRASES.length];
      if (deepgram) deepgram.script = [phrase];
      const finalsBefore = deepgram?.speechFinalAt.length ?? 0;
      const echoedBefore = caller.echoed.length;
      const from = caller.received.length;
      const recording = audio.get(phrase)!;
      await caller.say(recording);
      // espeak-ng pads its recordings with silence: speech ended that long before the last frame went out.
      const speechEnd = performance.now() - trailingSilenceMs(recording);
      let first: number | undefined;
      for (let i = 0; i < 500 && first === undefined; i++) {
        first = caller.received.slice(from).find((x) => x.kind === 'media' && x.at > speechEnd)?.at;
        if (first === undefined) await sleep(5);
      }
      if (first === undefined) {
        process.stderr.write(`${name}: no answer to "${phrase}" (call ${c}, turn ${t})\n`);
        continue;
      }
      const decided = deepgram ? deepgram.speechFinalAt[finalsBefore] : speechEnd + END_OF_TURN_MS;
      samples.push({ endToFrame: first - speechEnd, share: first - decided });
      const stream = tts?.streams.find((x) => x.openedAt > decided);
      if (stream && process.env.BENCH_DEBUG) process.stderr.write(`share ${(first - decided).toFixed(0)}: tts socket opened +${(stream.openedAt - decided).toFixed(1)}, text +${((stream.textAt ?? NaN) - decided).toFixed(1)}, first chunk +${((stream.firstChunkAt ?? NaN) - decided).toFixed(1)}\n`);
      // Let the answer play out (its marks come back) before the next utterance.
      for (let i = 0; i < 500; i++) {
        await sleep(20);
        const answerMarks = caller.received.slice(from).filter((x) => x.kind === 'mark').length;
        if (answerMarks > 0 && caller.echoed.length - echoedBefore >= answerMarks) break;
      }
      // Same-run floor: one HTTP round trip into the api process (machine noise, not our pipeline).
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await fetch(`${apiUrl}/health`).then((r) => r.arrayBuffer());
        floor.push(performance.now() - t0);
        await sleep(50);
      }
      await sleep(150);
    }
    caller.stop(callSid, ACCOUNT_SID);
    await sleep(200);
    caller.close();
  }
  return samples;
}

function row(label: string, s: Sample[]): string {
  const e = s.map((x) => x.endToFrame);
  const sh = s.map((x) => x.share);
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
  return `| ${label} | ${s.length} | ${f(percentile(e, 0.5))} / ${f(percentile(e, 0.95))} | **${f(percentile(sh, 0.5))} / ${f(percentile(sh, 0.95))}** | ${f(Math.max(...sh))} |`;
}

async function main(): Promise<void> {
  ensureBuilt();
  const urls = Object.fromEntries(execFileSync('bash', ['scripts/services.sh', 'up'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  const db = new URL(urls.DATABASE_URL);
  if (!db.pathname.endsWith('_test')) db.pathname += '_test'; // migrated by `npm test`
  const redisUrl = new URL(urls.REDIS_URL);
  redisUrl.pathname = '/5';
  const env = { DATABASE_URL: db.toString(), REDIS_URL: redisUrl.toString(), TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_BASE_URL };
  const redis = new Redis(redisUrl.toString());
  await redis.flushdb();

  const audio = new Map<string, Buffer>();
  const espeak = new EspeakSynthesizer({ espeak: 'espeak-ng', sox: 'sox', rate: 150, timeoutMs: 10_000 });
  for (const p of new Set(PHRASES)) audio.set(p, await espeak.synthesize(p, { language: 'en-US' }, new AbortController().signal));
  const deepgram = new FakeDeepgram();
  const ready = tone();
  const elevenlabs = new FakeElevenLabs(async () => ready);
  const [deepgramUrl, elevenlabsUrl] = await Promise.all([deepgram.start(), elevenlabs.start()]);

  const worker = await spawnWorker('bench', env, redisUrl.toString());
  const apis: ChildProcess[] = [];
  const startApi = async (extra: Record<string, string>) => {
    const port = freePort();
    apis.push(await startProcess(['dist/apps/api/src/main.js'], { NODE_ENV: 'test', LOG_LEVEL: 'error', PORT: String(port), ...env, ...extra }, `http://127.0.0.1:${port}/health`));
    return `http://127.0.0.1:${port}`;
  };
  try {
    const cloudEnv = {
      MEDIA_STT_PROVIDER: 'deepgram', DEEPGRAM_URL: deepgramUrl, DEEPGRAM_API_KEY: deepgram.apiKey,
      MEDIA_TTS_PROVIDER: 'elevenlabs', ELEVENLABS_URL: elevenlabsUrl, ELEVENLABS_API_KEY: elevenlabs.apiKey,
    };
    const cloudUrl = await startApi({ ...cloudEnv, MEDIA_SPECULATIVE_MS: '250' });
    const noSpecUrl = await startApi({ ...cloudEnv, MEDIA_SPECULATIVE_MS: '0' });
    const inApiUrl = await startApi({ ...cloudEnv, MEDIA_SPECULATIVE_MS: '250', AGENT_LOCAL_IN_API: 'true' });
    const offlineUrl = await startApi({ MEDIA_STT_PROVIDER: 'pocketsphinx', MEDIA_TTS_PROVIDER: 'espeak', MEDIA_END_OF_TURN_MS: String(END_OF_TURN_MS) });
    await runEngine('warm-up', cloudUrl, deepgram, audio); // first turns pay for JIT and connection set-up
    floor.length = 0;
    // Interleave the engines so the shared machine's load hits both alike.
    const cloud: Sample[] = [];
    const noSpec: Sample[] = [];
    const inApi: Sample[] = [];
    const offline: Sample[] = [];
    for (let round = 0; round < 2; round++) {
      noSpec.push(...(await runEngine('cloud-nospec', noSpecUrl, deepgram, audio, elevenlabs)));
      cloud.push(...(await runEngine('cloud', cloudUrl, deepgram, audio, elevenlabs)));
      inApi.push(...(await runEngine('cloud-in-api', inApiUrl, deepgram, audio, elevenlabs)));
      if (process.env.BENCH_OFFLINE !== '0') offline.push(...(await runEngine('offline', offlineUrl, undefined, audio)));
    }
    process.stdout.write(`\nMachine: ${machine()} (shared with other busy jobs). Date: ${new Date().toISOString()}. ${CALLS * 2} calls × ${TURNS} utterances per engine.\n\n`);
    process.stdout.write('| engine | turns | end of speech → first agent frame p50 / p95 ms | server share p50 / p95 ms | server share max ms |\n|---|---:|---:|---:|---:|\n');
    process.stdout.write(`${row('baseline, same run: cloud, speculation off (MEDIA_SPECULATIVE_MS=0)', noSpec)}\n`);
    process.stdout.write(`${row('cloud: Deepgram + ElevenLabs fakes (zero latency), endpointing 300 ms, speculative turns (MEDIA_SPECULATIVE_MS=250, default)', cloud)}\n`);
    process.stdout.write(`${row('cloud, speculative, + AGENT_LOCAL_IN_API (built-in agent in the api: no worker round trip)', inApi)}\n`);
    const fl = (p: number) => percentile(floor, p).toFixed(1);
    process.stdout.write(`| floor, same run: one GET /health round trip into the api process (n=${floor.length}) | – | – | ${fl(0.5)} / ${fl(0.95)} | ${Math.max(...floor).toFixed(1)} |\n`);
    if (offline.length) process.stdout.write(`${row('same run: offline VAD (600 ms end of turn) + pocketsphinx + espeak-ng (speculative)', offline)}\n`);
  } finally {
    for (const api of apis) await stopProcess(api);
    await stopWorker(worker);
    await Promise.all([deepgram.stop(), elevenlabs.stop()]);
    await redis.flushdb();
    redis.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
