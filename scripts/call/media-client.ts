import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { signTwilioRequest } from '#libs/telephony';

/** One thing Twilio received from the server on a media socket, in order. */
export type Received =
  | { kind: 'media'; at: number; bytes: number; payload: Buffer }
  | { kind: 'mark'; at: number; name: string }
  | { kind: 'clear'; at: number };

export interface MediaClientOptions {
  apiUrl: string;
  publicBaseUrl: string;
  authToken: string;
  path?: string;
  /** Override the signature (tests of forged upgrades); null sends none. */
  signature?: string | null;
}

/**
 * Plays Twilio's side of a Media Stream: a signed upgrade, `connected`/`start`, caller audio as
 * 20 ms μ-law frames at real-time pace, and a playback model of the agent's audio that echoes
 * each mark when the audio before it has "played" and returns pending marks at `clear`.
 */
export class TwilioMediaClient {
  readonly streamSid = 'MZ' + randomBytes(16).toString('hex');
  readonly received: Received[] = [];
  private ws!: WebSocket;
  private playEnd = 0;
  private pendingMarks = new Map<string, NodeJS.Timeout>();
  private seq = 0;
  private streamMs = 0;
  private chunk = 0;
  private pump?: NodeJS.Timeout;
  private speech = Buffer.alloc(0);
  private speechDone: (() => void)[] = [];
  closed?: { code: number; reason: string };

  constructor(private readonly options: MediaClientOptions) {}

  static sign(authToken: string, publicBaseUrl: string, path: string): string {
    return signTwilioRequest(authToken, publicBaseUrl.replace(/^http/, 'ws') + path, {});
  }

  /** Opens the socket; rejects with the HTTP status when the upgrade is refused. */
  connect(): Promise<void> {
    const path = this.options.path ?? '/twilio/media';
    const headers: Record<string, string> = {};
    const signature = this.options.signature === undefined ? TwilioMediaClient.sign(this.options.authToken, this.options.publicBaseUrl, path) : this.options.signature;
    if (signature !== null) headers['x-twilio-signature'] = signature;
    this.ws = new WebSocket(this.options.apiUrl.replace(/^http/, 'ws') + path, { headers });
    this.ws.on('message', (data) => this.onMessage(String(data)));
    this.ws.on('close', (code, reason) => {
      this.stopAudio();
      this.closed = { code, reason: reason.toString() };
      for (const timer of this.pendingMarks.values()) clearTimeout(timer);
      this.pendingMarks.clear();
    });
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      this.ws.once('error', reject);
    });
  }

  get socket(): WebSocket {
    return this.ws;
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ ...message, sequenceNumber: String(++this.seq) }));
  }

  start(callSid: string, accountSid: string, token: string): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.send({
      event: 'start',
      streamSid: this.streamSid,
      start: {
        streamSid: this.streamSid, accountSid, callSid, tracks: ['inbound'], customParameters: { token },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
  }

  /**
   * Streams continuously, as Twilio does: a 20 ms frame every 20 ms, taken from what the caller
   * is saying (`say`) or silence. Runs until `stop`/`close`.
   */
  startAudio(): void {
    if (this.pump) return;
    const started = performance.now();
    let i = 0;
    const tick = () => {
      if (this.ws.readyState !== WebSocket.OPEN) return this.finishSpeech();
      const due = Math.floor((performance.now() - started) / 20);
      for (; i <= due; i++) this.sendFrame();
      this.pump = setTimeout(tick, 20 - ((performance.now() - started) % 20));
    };
    tick();
  }

  stopAudio(): void {
    clearTimeout(this.pump);
    this.pump = undefined;
    this.finishSpeech();
  }

  /** Queues caller speech into the stream; resolves once its last frame was sent. */
  say(mulaw: Buffer): Promise<void> {
    if (this.closed) return Promise.resolve(); // nothing will send it: do not wait forever
    this.speech = Buffer.concat([this.speech, mulaw]);
    return new Promise((resolve) => this.speechDone.push(resolve));
  }

  /** Stream time (ms) of the next frame. */
  get streamTime(): number {
    return this.streamMs;
  }

  private sendFrame(): void {
    const frame = Buffer.alloc(160, 0xff);
    if (this.speech.length) {
      this.speech.copy(frame, 0, 0, Math.min(160, this.speech.length));
      this.speech = this.speech.subarray(Math.min(160, this.speech.length));
      if (!this.speech.length) this.finishSpeech();
    }
    this.send({ event: 'media', streamSid: this.streamSid, media: { track: 'inbound', chunk: String(this.chunk++), timestamp: String(this.streamMs), payload: frame.toString('base64') } });
    this.streamMs += 20;
  }

  private finishSpeech(): void {
    for (const resolve of this.speechDone.splice(0)) resolve();
  }

  dtmf(digit: string): void {
    this.send({ event: 'dtmf', streamSid: this.streamSid, dtmf: { track: 'inbound_track', digit } });
  }

  stop(callSid: string, accountSid: string): void {
    this.stopAudio();
    this.send({ event: 'stop', streamSid: this.streamSid, stop: { accountSid, callSid } });
  }

  close(): void {
    this.stopAudio();
    this.ws.close();
  }

  /** The agent audio received between two indexes of `received`. */
  audioBetween(from: number, to = this.received.length): Buffer {
    return Buffer.concat(this.received.slice(from, to).flatMap((r) => (r.kind === 'media' ? [r.payload] : [])));
  }

  private onMessage(text: string): void {
    const message = JSON.parse(text) as { event: string; media?: { payload: string }; mark?: { name: string } };
    const at = performance.now();
    if (message.event === 'media') {
      const payload = Buffer.from(message.media!.payload, 'base64');
      this.received.push({ kind: 'media', at, bytes: payload.length, payload });
      this.playEnd = Math.max(this.playEnd, at) + payload.length / 8;
    } else if (message.event === 'mark') {
      const name = message.mark!.name;
      this.received.push({ kind: 'mark', at, name });
      const timer = setTimeout(() => this.echoMark(name), Math.max(0, this.playEnd - at));
      this.pendingMarks.set(name, timer);
    } else if (message.event === 'clear') {
      this.received.push({ kind: 'clear', at });
      // Twilio empties its buffer and returns every pending mark at once.
      for (const [name, timer] of this.pendingMarks) {
        clearTimeout(timer);
        this.echoMark(name);
      }
      this.playEnd = at;
    }
  }

  /** Marks echoed back (name → time), in order. */
  readonly echoed: { name: string; at: number }[] = [];

  private echoMark(name: string): void {
    this.pendingMarks.delete(name);
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.echoed.push({ name, at: performance.now() });
    this.send({ event: 'mark', streamSid: this.streamSid, mark: { name } });
  }
}
