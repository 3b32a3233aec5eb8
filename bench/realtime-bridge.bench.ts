/**
 * npm run bench:realtime — the OpenAI Realtime bridge (STREAM_ENGINE=realtime) under load, against
 * a local model that speaks the GA protocol, with synthetic Twilio streams. Not a timed test:
 * numbers for docs/BENCHMARKS.md.
 *
 * Each call: Twilio sends a 20 ms μ-law frame every 20 ms; the model answers in 100 ms audio deltas
 * at real-time pace (2 s answers), and every other answer is interrupted 1 s in by its
 * `speech_started`. Frames carry a sequence number in their first bytes (the bridge passes μ-law
 * through untouched), so this process — which plays both Twilio and the model — times every frame
 * from one end to the other on one clock:
 *   - in: Twilio frame sent → `input_audio_buffer.append` received by the model;
 *   - out: `response.output_audio.delta` sent → Twilio `media` received;
 *   - barge-in: `speech_started` sent → Twilio `clear` received.
 * Baseline in the same run: a bare `ws` relay (bench/realtime-relay-baseline.mjs) doing the same
 * hops with nothing else; the bridge's own cost is the difference. Then the concurrency levels:
 * event-loop delay of the one api process (bench/realtime-probe.mjs preloaded).
 *
 * Env: REDIS_URL / DATABASE_URL (from .env via with-env, Redis db 5 is flushed), BENCH_LAT_CALLS
 * (default 20), BENCH_LEVELS (default 100,200,300), BENCH_HOLD (s, default 10), BENCH_CPU_PROF (a
 * directory: the relay and the api run with `--cpu-prof` and write their profiles there on exit),
 * BENCH_SKIP_BASELINE (1: the api only, e.g. when profiling it).
 * Prints a markdown table, then the CPU ratio bridge / relay per level (the number that holds on a
 * busy machine).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { WebSocket, WebSocketServer } from 'ws';
import { ensureBuilt } from '../test/support/worker-pool.js';
import { ACCOUNT_SID, AUTH_TOKEN, answerStreamCall, openMediaStream, PUBLIC_BASE_URL, percentile } from './media-support.js';
import { freePort, machine } from './support.js';

const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redisUrl.pathname = '/5';
const REDIS_URL = redisUrl.toString();
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard';
const LAT_CALLS = Number(process.env.BENCH_LAT_CALLS ?? 20);
const LEVELS = (process.env.BENCH_LEVELS ?? '100,200,300').split(',').map(Number);
const HOLD_S = Number(process.env.BENCH_HOLD ?? 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

/** Samples of one measurement window. */
class Samples {
  inMs: number[] = [];
  outMs: number[] = [];
  clearMs: number[] = [];
  spuriousClears = 0;
  reset(): void {
    this.inMs = [];
    this.outMs = [];
    this.clearMs = [];
    this.spuriousClears = 0;
  }
}
const samples = new Samples();
let seq = 0;
const inSent = new Map<number, number>();
const outSent = new Map<number, number>();
const callers: BenchCaller[] = [];

function frameWithSeq(bytes: number, n: number, who: number): Buffer {
  const b = Buffer.alloc(bytes, 0xff);
  b.writeUInt32LE(n, 0);
  b.writeUInt16LE(who, 4);
  return b;
}
/** First 6 bytes of a base64 payload (8 characters): sequence number and caller index. */
const head = (payload: string) => Buffer.from(payload.slice(0, 8), 'base64');

// ---------------------------------------------------------------------------------------------
// The model: OpenAI Realtime GA messages, a scripted conversation per connection.

interface ModelSession {
  ws: WebSocket;
  caller?: BenchCaller;
  tick: number;
  /** Ticks (20 ms) at which the next things happen. */
  nextDelta?: number;
  deltasLeft: number;
  responseId?: string;
  itemId?: string;
  cycle: number;
  interruptAt?: number;
  speechStopAt?: number;
  speechAt?: number;
  counter: number;
}

class BenchModel {
  private server!: Server;
  private wss!: WebSocketServer;
  readonly sessions = new Set<ModelSession>();
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_q, r) => r.end());
    this.wss = new WebSocketServer({ server: this.server, path: '/v1/realtime', perMessageDeflate: false });
    this.wss.on('connection', (ws) => {
      const s: ModelSession = { ws, tick: 0, deltasLeft: 0, cycle: 0, counter: 0 };
      this.sessions.add(s);
      ws.on('message', (data) => this.onMessage(s, String(data)));
      ws.on('close', () => this.sessions.delete(s));
      this.send(s, { type: 'session.created', session: { id: 'sess_bench', type: 'realtime' } });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/realtime`;
  }

  close(): void {
    for (const s of this.sessions) s.ws.terminate();
    this.wss.close();
    this.server.close();
  }

  private send(s: ModelSession, event: Record<string, unknown>): void {
    if (s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(event));
  }

  private onMessage(s: ModelSession, text: string): void {
    if (text.startsWith('{"type":"input_audio_buffer.append"')) {
      const now = performance.now();
      const payload = text.slice(text.indexOf('"audio":"') + 9, -2);
      const h = head(payload);
      const n = h.readUInt32LE(0);
      s.caller ??= callers[h.readUInt16LE(4)];
      const at = inSent.get(n);
      if (at !== undefined) {
        samples.inMs.push(now - at);
        inSent.delete(n);
      }
      return;
    }
    const event = JSON.parse(text) as { type: string; response?: { metadata?: Record<string, unknown> } };
    if (event.type === 'session.update') this.send(s, { type: 'session.updated', session: { type: 'realtime' } });
    else if (event.type === 'response.create') this.answer(s, event.response?.metadata ?? {});
  }

  private answer(s: ModelSession, metadata: Record<string, unknown>): void {
    s.counter++;
    s.responseId = `resp_${s.counter}`;
    s.itemId = `item_${s.counter}`;
    this.send(s, { type: 'response.created', response: { id: s.responseId, status: 'in_progress', output: [], metadata } });
    this.send(s, { type: 'response.output_item.added', response_id: s.responseId, output_index: 0, item: { id: s.itemId, type: 'message', role: 'assistant', content: [] } });
    this.send(s, { type: 'response.output_audio_transcript.delta', response_id: s.responseId, item_id: s.itemId, delta: 'Here is a two second answer from the model.' });
    s.deltasLeft = 20;
    s.nextDelta = s.tick;
    s.cycle++;
    // Every other answer is interrupted one second in; the others end and the caller speaks after.
    if (s.cycle % 2 === 0) s.interruptAt = s.tick + 50;
    else s.speechAt = s.tick + 150;
  }

  /** One 20 ms step of every session. */
  step(): void {
    for (const s of this.sessions) {
      s.tick++;
      if (s.nextDelta !== undefined && s.tick >= s.nextDelta && s.deltasLeft > 0) {
        const n = ++seq;
        const delta = frameWithSeq(800, n, 0).toString('base64');
        outSent.set(n, performance.now());
        this.send(s, { type: 'response.output_audio.delta', response_id: s.responseId, item_id: s.itemId, output_index: 0, content_index: 0, delta });
        s.deltasLeft--;
        s.nextDelta = s.tick + 5;
        if (s.deltasLeft === 0) {
          s.nextDelta = undefined;
          this.send(s, { type: 'response.output_audio.done', response_id: s.responseId, item_id: s.itemId });
          this.send(s, { type: 'response.output_audio_transcript.done', response_id: s.responseId, item_id: s.itemId, transcript: 'Here is a two second answer from the model.' });
          this.send(s, { type: 'response.output_item.done', response_id: s.responseId, item: { id: s.itemId, type: 'message', role: 'assistant', status: 'completed' } });
          this.send(s, { type: 'response.done', response: { id: s.responseId, status: 'completed', output: [] } });
        }
      }
      if (s.interruptAt !== undefined && s.tick >= s.interruptAt) {
        s.interruptAt = undefined;
        s.deltasLeft = 0;
        s.nextDelta = undefined;
        if (s.caller) s.caller.speechSentAt = performance.now();
        this.send(s, { type: 'input_audio_buffer.speech_started', audio_start_ms: s.tick * 20, item_id: `in_${s.counter}` });
        this.send(s, { type: 'response.done', response: { id: s.responseId, status: 'cancelled', output: [] } });
        s.speechStopAt = s.tick + 35;
      }
      if (s.speechAt !== undefined && s.tick >= s.speechAt) {
        s.speechAt = undefined;
        this.send(s, { type: 'input_audio_buffer.speech_started', audio_start_ms: s.tick * 20, item_id: `in_${s.counter}` });
        s.speechStopAt = s.tick + 35;
      }
      if (s.speechStopAt !== undefined && s.tick >= s.speechStopAt) {
        s.speechStopAt = undefined;
        const item = `in_${s.counter}`;
        this.send(s, { type: 'input_audio_buffer.speech_stopped', audio_end_ms: s.tick * 20, item_id: item });
        this.send(s, { type: 'input_audio_buffer.committed', item_id: item, previous_item_id: s.itemId });
        this.send(s, { type: 'conversation.item.input_audio_transcription.completed', item_id: item, content_index: 0, transcript: 'a caller question' });
        this.answer(s, {});
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Twilio's side.

class BenchCaller {
  readonly index: number;
  readonly callSid = 'CA' + Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32);
  readonly streamSid = 'MZ' + Math.random().toString(16).slice(2).padEnd(32, '1').slice(0, 32);
  ws?: WebSocket;
  speechSentAt?: number;
  private chunk = 0;
  private playEnd = 0;
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly target: string, private readonly signed: boolean) {
    this.index = callers.length;
    callers.push(this);
  }

  async open(): Promise<void> {
    // Unsigned (the bare relay) needs no voice webhook: any token will do.
    const token = this.signed ? await answerStreamCall(this.target, this.callSid) : 'bench-token';
    this.ws = await openMediaStream(this.target, { callSid: this.callSid, streamSid: this.streamSid, token }, (text) => this.onMessage(text));
  }

  tick(): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    const n = ++seq;
    const payload = frameWithSeq(160, n, this.index).toString('base64');
    inSent.set(n, performance.now());
    const c = this.chunk++;
    this.ws.send(`{"event":"media","sequenceNumber":"${c + 2}","streamSid":"${this.streamSid}","media":{"track":"inbound","chunk":"${c}","timestamp":"${c * 20}","payload":"${payload}"}}`);
  }

  close(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.ws?.send(JSON.stringify({ event: 'stop', streamSid: this.streamSid, stop: { accountSid: ACCOUNT_SID, callSid: this.callSid } }));
    this.ws?.close();
  }

  private onMessage(text: string): void {
    const now = performance.now();
    const m = JSON.parse(text) as { event: string; media?: { payload: string }; mark?: { name: string } };
    if (m.event === 'media') {
      const n = head(m.media!.payload).readUInt32LE(0);
      const at = outSent.get(n);
      if (at !== undefined) {
        samples.outMs.push(now - at);
        outSent.delete(n);
      }
      this.playEnd = Math.max(this.playEnd, now) + (m.media!.payload.length * 3) / 4 / 8;
    } else if (m.event === 'mark') {
      const name = m.mark!.name;
      this.pending.set(name, setTimeout(() => this.echo(name), Math.max(0, this.playEnd - now)));
    } else if (m.event === 'clear') {
      if (this.speechSentAt !== undefined) samples.clearMs.push(now - this.speechSentAt);
      else samples.spuriousClears++;
      this.speechSentAt = undefined;
      for (const [name, t] of this.pending) (clearTimeout(t), this.echo(name));
      this.playEnd = now;
    }
  }

  private echo(name: string): void {
    this.pending.delete(name);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ event: 'mark', streamSid: this.streamSid, mark: { name } }));
  }
}

// ---------------------------------------------------------------------------------------------

interface Probe {
  loopP50: number;
  loopP99: number;
  loopMax: number;
  speechStartedP99: number;
  speechStartedCount: number;
  speechToClearP99: number;
  speechToClearMax: number;
  frameInP99: number;
  frameOutP99: number;
  frames: number;
  cpu: number;
  rss: number;
  liveCalls: number;
}

class Target {
  constructor(readonly child: ChildProcess, readonly url: string) {}

  static async start(args: string[], env: Record<string, string>, port: number): Promise<Target> {
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const child = spawn('node', [...prof, '--import', './bench/realtime-probe.mjs', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await fetch(url);
        return new Target(child, url);
      } catch {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${args.join(' ')} did not start`);
        await sleep(200);
      }
    }
  }

  private ask<T>(message: string): Promise<T> {
    return new Promise((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== message) return;
        this.child.off('message', on);
        resolve(m as T);
      };
      this.child.on('message', on);
      this.child.send(message);
    });
  }

  reset = () => this.ask<unknown>('reset');
  sample = () => this.ask<Probe>('sample');

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

async function hold(target: Target, model: BenchModel, level: number, signed: boolean, active: BenchCaller[]): Promise<Probe> {
  while (active.length < level) {
    const batch = Array.from({ length: Math.min(10, level - active.length) }, () => new BenchCaller(target.url, signed));
    // A webhook that times out under load answers with fallback TwiML: that call is simply not placed.
    const opened = await Promise.allSettled(batch.map((c) => c.open()));
    active.push(...batch.filter((_, i) => opened[i].status === 'fulfilled'));
    if (opened.some((o) => o.status === 'rejected')) process.stderr.write('a call could not be placed; retrying\n');
    await sleep(50);
  }
  await sleep(3000); // greetings, first turns: steady state
  inSent.clear();
  outSent.clear();
  samples.reset();
  await target.reset();
  await sleep(HOLD_S * 1000);
  const probe = await target.sample();
  if (model.sessions.size < level) process.stderr.write(`warning: ${model.sessions.size} model sessions for ${level} calls\n`);
  return probe;
}

function row(label: string, level: number, p: Probe, baseline?: Probe): string {
  const q = (xs: number[], x: number) => f(percentile(xs, x));
  return `| ${label} | ${level} | ${q(samples.inMs, 0.5)} / **${q(samples.inMs, 0.99)}** | ${q(samples.outMs, 0.5)} / **${q(samples.outMs, 0.99)}** | ` +
    `${q(samples.clearMs, 0.5)} / **${q(samples.clearMs, 0.99)}** (n=${samples.clearMs.length}${samples.spuriousClears ? `, ${samples.spuriousClears} spurious` : ''}) | ` +
    `${f(p.loopP50)} / **${f(p.loopP99)}** | ${f(p.cpu * 100, 0)} % | ${p.frames ? `${f(p.frameInP99, 3)} / ${f(p.frameOutP99, 3)}` : '–'} | ${p.speechStartedCount ? `${f(p.speechToClearP99, 3)} / ${f(p.speechToClearMax, 3)} / ${f(p.speechStartedP99, 3)}` : '–'} | ${baseline ? f((p.rss - baseline.rss) / level / 1024, 0) + ' KB/call' : f(p.rss / 2 ** 20, 0) + ' MB'} |`;
}

async function main(): Promise<void> {
  ensureBuilt();
  const redis = new Redis(REDIS_URL);
  await redis.flushdb();
  redis.disconnect();
  const model = new BenchModel();
  await model.start();
  const ticker = setInterval(() => {
    model.step();
    for (const c of active) c.tick();
  }, 20);
  let active: BenchCaller[] = [];
  const rows: string[] = [];
  const cpu = { relay: new Map<number, number>(), bridge: new Map<number, number>() };
  const loadAtStart = loadavg();

  // Baseline: the bare relay, then the bridge, at the latency level.
  const relayPort = freePort();
  if (!process.env.BENCH_SKIP_BASELINE) {
  const relay = await Target.start(['bench/realtime-relay-baseline.mjs', String(relayPort), model.url], {}, relayPort);
  await sleep(1000);
  const idleRelay = await relay.sample();
  rows.push(row('baseline: bare ws relay', LAT_CALLS, await hold(relay, model, LAT_CALLS, false, active), idleRelay));
  for (const level of LEVELS) {
    const p = await hold(relay, model, level, false, active);
    cpu.relay.set(level, p.cpu);
    rows.push(row('baseline: bare ws relay', level, p, idleRelay));
    process.stderr.write(`relay ${level}: loop p99 ${f(p.loopP99)} ms\n`);
  }
  for (const c of active) c.close();
  active = [];
  await sleep(1000);
  await relay.stop();
  }

  const apiPort = freePort();
  const api = await Target.start(['dist/apps/api/src/main.js'], {
    NODE_ENV: 'production', LOG_LEVEL: 'error', PORT: String(apiPort), PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    REDIS_URL, DATABASE_URL, STREAM_ENGINE: 'realtime', OPENAI_REALTIME_URL: model.url, OPENAI_API_KEY: 'bench', OPENAI_REALTIME_STALL_MS: '2500',
    BENCH_PROBE_API: '1',
  }, apiPort);
  await sleep(2000);
  const idle = await api.sample();
  rows.push(row('switchboard realtime bridge', LAT_CALLS, await hold(api, model, LAT_CALLS, true, active), idle));
  for (const level of LEVELS) {
    const p = await hold(api, model, level, true, active);
    cpu.bridge.set(level, p.cpu);
    rows.push(row('switchboard realtime bridge', level, p, idle));
    process.stderr.write(`${level} bridges: loop p99 ${f(p.loopP99)} ms, live calls ${p.liveCalls}, model sessions ${model.sessions.size}\n`);
  }
  for (const c of active) c.close();
  active = [];
  await sleep(1000);
  clearInterval(ticker);
  await api.stop();
  model.close();

  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
  console.log(`Machine: ${machine()}. Date: ${new Date().toISOString()}. Hold ${HOLD_S} s per level. Load average (1, 5, 15 min) at start ${load(loadAtStart)}, at end ${load(loadavg())}.\n`);
  console.log('| target | calls | in: Twilio frame → model, p50 / p99 ms | out: model delta → Twilio, p50 / p99 ms | speech_started → clear, p50 / p99 ms | event loop p50 / p99 ms | CPU (of one core) | handler p99 ms, in / out | in the api: speech_started → clear sent p99 / max, whole handler p99 (ms) | memory |');
  console.log('|---|---:|---|---|---|---|---:|---|---:|---|');
  for (const r of rows) console.log(r);
  // The number that survives a busy machine: the bridge's CPU per call against the bare relay's, same run.
  const ratios = LEVELS.filter((l) => cpu.relay.get(l) && cpu.bridge.get(l)).map((l) => `${l} calls ${f(cpu.bridge.get(l)! / cpu.relay.get(l)!)}× (${f(cpu.bridge.get(l)! * 100, 0)} % vs ${f(cpu.relay.get(l)! * 100, 0)} % of a core)`);
  if (ratios.length) console.log(`\nCPU of the bridge / CPU of the bare relay: ${ratios.join('; ')}.`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
