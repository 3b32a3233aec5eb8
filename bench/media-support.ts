import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { signTwilioRequest } from '#libs/telephony';

/** What the probe inside the api process reports (see media-probe.mjs). */
export interface ProbeSample {
  loopP50: number;
  loopP99: number;
  loopMax: number;
  frames: number;
  frameP50: number;
  frameP99: number;
  frameMax: number;
  detectToClearP50: number;
  detectToClearP99: number;
  bargeIns: number;
  rss: number;
  heapUsed: number;
  handles: number;
  children: number;
  liveCalls: number;
}

export const ACCOUNT_SID = 'AC' + '0123456789abcdef'.repeat(2);
export const AUTH_TOKEN = 'bench-auth-token-0123456789abcdef';
export const PUBLIC_BASE_URL = 'https://voice.bench.test';

/** The built api in its own process, with the probe preloaded and an IPC channel to it. */
/**
 * Answers a stream call the way Twilio does (the signed voice webhook with `?mode=stream`) and
 * returns the per-call token the `<Connect><Stream>` carries for the socket's `start`.
 */
export async function answerStreamCall(api: string, callSid: string): Promise<string> {
  const params = { CallSid: callSid, AccountSid: ACCOUNT_SID, From: '+15005550006', To: '+15005550001', CallStatus: 'in-progress', Direction: 'inbound' };
  const res = await fetch(`${api}/twilio/voice?mode=stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(AUTH_TOKEN, `${PUBLIC_BASE_URL}/twilio/voice?mode=stream`, params) },
    body: new URLSearchParams(params).toString(),
  });
  const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(await res.text())?.[1];
  if (!token) throw new Error(`voice webhook answered ${res.status}`);
  return token;
}

/**
 * Opens a signed media socket to `api` and sends Twilio's `connected` and `start` for the call;
 * `onMessage` gets every frame the server sends.
 */
export async function openMediaStream(api: string, call: { callSid: string; streamSid: string; token: string }, onMessage: (text: string) => void): Promise<WebSocket> {
  const ws = new WebSocket(api.replace(/^http/, 'ws') + '/twilio/media', {
    headers: { 'x-twilio-signature': signTwilioRequest(AUTH_TOKEN, PUBLIC_BASE_URL.replace(/^http/, 'ws') + '/twilio/media', {}) },
    perMessageDeflate: false,
  });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  ws.on('message', (data) => onMessage(String(data)));
  ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  ws.send(JSON.stringify({
    event: 'start', sequenceNumber: '1', streamSid: call.streamSid,
    start: { streamSid: call.streamSid, accountSid: ACCOUNT_SID, callSid: call.callSid, tracks: ['inbound'], customParameters: { token: call.token }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
  }));
  return ws;
}

export class ApiUnderTest {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(port: number, env: Record<string, string>): Promise<ApiUnderTest> {
    const child = spawn('node', ['--expose-gc', '--import', './bench/media-probe.mjs', 'dist/apps/api/src/main.js'], {
      env: {
        PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'error', PORT: String(port), PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN, MEDIA_STT_PROVIDER: 'none', ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/health`)).status < 500) return new ApiUnderTest(child, url);
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('api did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private ask<T>(message: string, type: string): Promise<T> {
    return new Promise((resolve) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        this.child.off('message', onMessage);
        resolve(m as T);
      };
      this.child.on('message', onMessage);
      this.child.send(message);
    });
  }

  reset(): Promise<void> {
    return this.ask('reset', 'reset').then(() => undefined);
  }

  sample(): Promise<ProbeSample> {
    return this.ask<ProbeSample>('sample', 'sample');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

const SPEECH = (() => {
  // A loud, speech-like noise burst (μ-law codes of ±4–16k samples): the VAD sees speech.
  const b = Buffer.alloc(160 * 30);
  for (let i = 0; i < b.length; i++) b[i] = (i % 2 ? 0x10 : 0x90) + Math.floor(Math.random() * 16);
  return b;
})();

/**
 * One synthetic Twilio stream: silence with periodic speech bursts, marks echoed after their
 * audio "played", `clear` honoured. Driven by a shared 20 ms ticker (not a timer per stream).
 */
export class LoadStream {
  readonly callSid = 'CA' + randomBytes(16).toString('hex');
  readonly streamSid = 'MZ' + randomBytes(16).toString('hex');
  ws?: WebSocket;
  private chunk = 0;
  private playEnd = 0;
  private speechLeft = 0;
  private pending = new Map<string, NodeJS.Timeout>();
  /** Wall time the current speech burst started, until the next `clear`. */
  private speechStartedAt?: number;
  agentFrames = 0;
  readonly bargeIns: number[] = [];

  constructor(
    private readonly api: string,
    private readonly speechEveryFrames: number,
    private readonly phase: number,
  ) {}

  async open(): Promise<void> {
    const token = await answerStreamCall(this.api, this.callSid);
    this.ws = await openMediaStream(this.api, { callSid: this.callSid, streamSid: this.streamSid, token }, (text) => this.onMessage(text));
  }

  /** Sends this stream's next 20 ms frame. */
  tick(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const n = this.chunk++;
    if ((n + this.phase) % this.speechEveryFrames === 0) {
      this.speechLeft = 30; // 600 ms of speech
      this.speechStartedAt = performance.now();
    }
    let frame: Buffer;
    if (this.speechLeft > 0) {
      frame = SPEECH.subarray((30 - this.speechLeft) * 160, (31 - this.speechLeft) * 160);
      this.speechLeft--;
    } else {
      frame = SILENCE;
    }
    ws.send(`{"event":"media","sequenceNumber":"${n + 2}","streamSid":"${this.streamSid}","media":{"track":"inbound","chunk":"${n}","timestamp":"${n * 20}","payload":"${frame.toString('base64')}"}}`);
  }

  stop(): void {
    this.ws?.send(JSON.stringify({ event: 'stop', streamSid: this.streamSid, stop: { accountSid: ACCOUNT_SID, callSid: this.callSid } }));
  }

  close(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    this.ws?.close();
  }

  private onMessage(text: string): void {
    const m = JSON.parse(text) as { event: string; media?: { payload: string }; mark?: { name: string } };
    const now = performance.now();
    if (m.event === 'media') {
      this.agentFrames++;
      this.playEnd = Math.max(this.playEnd, now) + 20;
    } else if (m.event === 'mark') {
      const name = m.mark!.name;
      this.pending.set(name, setTimeout(() => this.echo(name), Math.max(0, this.playEnd - now)));
    } else if (m.event === 'clear') {
      if (this.speechStartedAt !== undefined) this.bargeIns.push(now - this.speechStartedAt);
      this.speechStartedAt = undefined;
      for (const [name, t] of this.pending) (clearTimeout(t), this.echo(name));
      this.playEnd = now;
    }
  }

  private echo(name: string): void {
    this.pending.delete(name);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ event: 'mark', streamSid: this.streamSid, mark: { name } }));
  }
}

const SILENCE = Buffer.alloc(160, 0xff);

/** Drives every stream's 20 ms frame from one timer. */
export function startTicker(streams: Set<LoadStream>): () => void {
  const started = performance.now();
  let sent = 0;
  let timer: NodeJS.Timeout;
  const run = () => {
    const due = Math.floor((performance.now() - started) / 20);
    for (; sent <= due; sent++) for (const s of streams) s.tick();
    timer = setTimeout(run, 20 - ((performance.now() - started) % 20));
  };
  run();
  return () => clearTimeout(timer);
}

export async function callKeys(redisUrl: string): Promise<number> {
  const r = new Redis(redisUrl);
  try {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', 'call:*', 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } finally {
    r.disconnect();
  }
}

export function percentile(samples: number[], q: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
