import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeSample, mulawLevelDb } from '#libs/media';

/** One caller turn the fake "hears", and how the fake model answers it. */
export interface ScriptedTurn {
  /** The input transcription of the caller's next utterance. */
  heard: string;
  /** The spoken answer (when no tool is called, or before it). */
  reply?: string;
  /** A function call the model makes instead of speaking. */
  tool?: { name: string; arguments: Record<string, unknown> };
  /** Spoken in the response the client requests after the tool's output (when it gives no exact words). */
  after?: string;
}

/** Something going wrong on purpose, on the next connections. */
export interface Fault {
  /** Which response it hits: the greeting, or the answer to the caller's Nth utterance (1-based). */
  on: 'greeting' | number;
  /** close: drop the socket; error: a server_error and a failed response; stall: go silent. */
  kind: 'close' | 'error' | 'stall';
  /** After this many audio deltas of that response. */
  afterDeltas?: number;
}

export interface FakeRealtimeOptions {
  apiKey: string;
  /** Audio per character of spoken text (ms). */
  msPerChar?: number;
  /** Audio per delta (ms). */
  deltaMs?: number;
  /** How much faster than real time the audio is produced (the real model is faster than playback). */
  speedup?: number;
}

/** A client event as received, in order. */
export type ClientEvent = { type: string } & Record<string, any>;

interface ResponseRun {
  id: string;
  cancelled: boolean;
  timers: NodeJS.Timeout[];
  items: string[];
}

let counter = 0;
const id = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++counter).toString(36).padStart(6, '0')}`;

/**
 * A local stand-in for the OpenAI Realtime API (GA protocol) over WebSocket: `?model=` on the URL,
 * bearer-key check at the upgrade (401 with OpenAI's JSON error body), `session.created` /
 * `session.update` / `session.updated`, μ-law `input_audio_buffer.append` with a server VAD
 * (`speech_started` / `speech_stopped` / `committed`), input transcription events, responses with
 * `response.output_audio.delta` and transcript deltas paced faster than real time, function calls,
 * `response.cancel` and `conversation.item.truncate`. Caller words come from a script, since the
 * fake cannot understand speech; everything else is driven by what the client sends.
 */
export class FakeOpenAiRealtime {
  /** Caller turns, consumed in order by committed utterances across connections. */
  script: ScriptedTurn[] = [];
  /** Faults applied to connections opened from now on. */
  faults: Fault[] = [];
  /** Refuse the upgrade with this status (429 …) from now on. */
  refuseWith?: number;
  /** Delay before each answer to the caller starts (a slow model). */
  answerDelayMs = 0;
  /** Send junk messages (non-JSON, binary, missing fields, unknown types) during the greeting. */
  malformed = false;
  readonly connections: FakeRealtimeConnection[] = [];
  private server?: Server;
  private wss?: WebSocketServer;
  private readonly sockets = new Set<Socket>();

  constructor(readonly options: FakeRealtimeOptions) {}

  async start(): Promise<string> {
    this.wss = new WebSocketServer({ noServer: true });
    this.server = createServer((_req, res) => res.writeHead(426).end());
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `ws://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1/realtime`;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.dispose();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Every client event of every connection, in order, optionally of one type. */
  events(type?: string): ClientEvent[] {
    return this.connections.flatMap((c) => c.received).filter((e) => !type || e.type === type);
  }

  reset(): void {
    this.script = [];
    this.faults = [];
    this.refuseWith = undefined;
    this.answerDelayMs = 0;
    this.malformed = false;
    for (const c of this.connections) c.dispose();
    this.connections.length = 0;
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const reject = (status: number, code: string, message: string) => {
      const body = JSON.stringify({ error: { message, type: 'invalid_request_error', code, param: null } });
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 429 ? 'Too Many Requests' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    if (url.pathname !== '/v1/realtime') return reject(404, 'not_found', 'Not found');
    if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return reject(401, 'invalid_api_key', 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.');
    }
    if (this.refuseWith) return reject(this.refuseWith, 'rate_limit_exceeded', 'Rate limit reached for requests');
    const model = url.searchParams.get('model');
    if (!model) return reject(400, 'missing_model', 'Missing required parameter: model');
    this.wss!.handleUpgrade(req, socket, head, (ws) => {
      this.connections.push(new FakeRealtimeConnection(ws, model, this, [...this.faults]));
    });
  }
}

/** One model session. */
export class FakeRealtimeConnection {
  readonly received: ClientEvent[] = [];
  /** Caller audio received (bytes of μ-law). */
  audioBytes = 0;
  /** When each caller turn ended (speech_stopped sent), performance.now(). */
  readonly turnEnds: number[] = [];
  private session: Record<string, any> = { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', silence_duration_ms: 500, prefix_padding_ms: 300 } } } };
  private speaking = false;
  private speechMs = 0;
  private silenceMs = 0;
  private speechStartMs = 0;
  private utterances = 0;
  private lastItem: string | null = null;
  private current?: ResponseRun;
  private pendingTurn?: ScriptedTurn;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stalled = false;
  closedByClient = false;

  constructor(
    readonly ws: WebSocket,
    readonly model: string,
    private readonly fake: FakeOpenAiRealtime,
    private readonly faults: Fault[],
  ) {
    ws.on('message', (data) => this.onMessage(String(data)));
    ws.on('close', () => {
      this.closedByClient = true;
      this.dispose();
    });
    this.send({ type: 'session.created', session: { id: id('sess'), object: 'realtime.session', type: 'realtime', model, output_modalities: ['audio'] } });
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.terminate();
  }

  /** Events of this connection of one type. */
  events(type: string): ClientEvent[] {
    return this.received.filter((e) => e.type === type);
  }

  private send(event: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN && !this.stalled) this.ws.send(JSON.stringify({ event_id: id('event'), ...event }));
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private onMessage(text: string): void {
    let event: ClientEvent;
    try {
      event = JSON.parse(text) as ClientEvent;
    } catch {
      return this.send({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_json', message: 'Invalid JSON', param: null } });
    }
    // Audio is counted, not stored: a call sends fifty appends a second.
    if (event.type === 'input_audio_buffer.append') return this.onAudio(Buffer.from(String(event.audio), 'base64'));
    this.received.push(event);
    switch (event.type) {
      case 'session.update':
        this.session = { ...this.session, ...event.session, audio: { ...this.session.audio, ...event.session?.audio } };
        return this.send({ type: 'session.updated', session: { id: id('sess'), object: 'realtime.session', ...this.session } });
      case 'response.create':
        return this.respond(event.response ?? {});
      case 'response.cancel':
        if (!this.current) return this.send({ type: 'error', error: { type: 'invalid_request_error', code: 'response_cancel_not_active', message: 'Cancellation failed: no active response found', param: null } });
        return this.cancel();
      case 'conversation.item.truncate':
        return this.send({ type: 'conversation.item.truncated', item_id: event.item_id, content_index: event.content_index, audio_end_ms: event.audio_end_ms });
      case 'conversation.item.create': {
        const item = { id: id('item'), object: 'realtime.item', status: 'completed', ...event.item };
        this.send({ type: 'conversation.item.added', previous_item_id: this.lastItem, item });
        this.lastItem = item.id;
        return this.send({ type: 'conversation.item.done', previous_item_id: this.lastItem, item });
      }
      default:
        return;
    }
  }

  /** Server VAD on μ-law: energy per 20 ms frame, silence_duration_ms of quiet ends the turn. */
  private onAudio(audio: Buffer): void {
    const td = this.session.audio?.input?.turn_detection;
    for (let off = 0; off < audio.length; off += 160) {
      const frame = audio.subarray(off, off + 160);
      const ms = frame.length / 8;
      const atMs = this.audioBytes / 8;
      this.audioBytes += frame.length;
      if (!td) continue;
      const loud = mulawLevelDb(frame) > -40;
      if (loud) {
        this.speechMs += ms;
        this.silenceMs = 0;
        if (!this.speaking && this.speechMs >= 100) {
          this.speaking = true;
          this.speechStartMs = Math.max(0, atMs - this.speechMs);
          this.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: this.speechStartMs, item_id: id('item') });
          if (this.current && td.interrupt_response !== false) this.cancel();
        }
      } else if (this.speaking) {
        this.silenceMs += ms;
        if (this.silenceMs >= (td.silence_duration_ms ?? 500)) this.endOfSpeech(atMs);
      } else {
        this.speechMs = 0;
      }
    }
  }

  private endOfSpeech(atMs: number): void {
    this.speaking = false;
    this.speechMs = 0;
    this.silenceMs = 0;
    const itemId = id('item');
    this.turnEnds.push(performance.now());
    this.send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: atMs, item_id: itemId });
    this.send({ type: 'input_audio_buffer.committed', previous_item_id: this.lastItem, item_id: itemId });
    const item = { id: itemId, object: 'realtime.item', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] };
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItem, item });
    this.lastItem = itemId;
    const turn = this.fake.script.shift() ?? { heard: '', reply: "Sorry, I didn't catch that." };
    this.utterances++;
    const utterance = this.utterances;
    // Transcription runs beside the response and often lands after the answer has begun.
    this.later(150, () => {
      if (turn.heard) this.send({ type: 'conversation.item.input_audio_transcription.delta', item_id: itemId, content_index: 0, delta: turn.heard });
      this.send({ type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript: turn.heard });
    });
    if (this.session.audio?.input?.turn_detection?.create_response === false) return;
    this.later(this.fake.answerDelayMs, () => this.answer(turn, utterance));
  }

  private answer(turn: ScriptedTurn, utterance: number): void {
    if (turn.tool) {
      this.pendingTurn = turn;
      return this.functionCall(turn.tool);
    }
    this.speak(turn.reply ?? 'OK.', {}, utterance);
  }

  /** response.create from the client: the greeting or action words it dictates, or the answer after a tool. */
  private respond(params: Record<string, any>): void {
    const quoted = /"([^"]+)"/.exec(String(params.instructions ?? ''))?.[1];
    const greeting = params.metadata?.purpose === 'greeting';
    const text = quoted ?? this.pendingTurn?.after ?? 'How else can I help?';
    if (!quoted) this.pendingTurn = undefined;
    this.speak(text, params.metadata ?? {}, greeting ? 'greeting' : 0);
  }

  private fault(on: 'greeting' | number): Fault | undefined {
    const index = this.faults.findIndex((f) => f.on === on);
    return index < 0 ? undefined : this.faults.splice(index, 1)[0];
  }

  private startResponse(metadata: Record<string, unknown>): ResponseRun {
    if (this.current) this.cancel();
    const run: ResponseRun = { id: id('resp'), cancelled: false, timers: [], items: [] };
    this.current = run;
    this.send({ type: 'response.created', response: { id: run.id, object: 'realtime.response', status: 'in_progress', output: [], metadata } });
    return run;
  }

  private speak(text: string, metadata: Record<string, unknown>, on: 'greeting' | number): void {
    const { msPerChar = 60, deltaMs = 100, speedup = 4 } = this.fake.options;
    const fault = this.fault(on);
    const run = this.startResponse(metadata);
    const itemId = id('item');
    run.items.push(itemId);
    const item = { id: itemId, object: 'realtime.item', type: 'message', role: 'assistant', status: 'in_progress', content: [] as unknown[] };
    this.send({ type: 'response.output_item.added', response_id: run.id, output_index: 0, item });
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItem, item });
    this.lastItem = itemId;
    this.send({ type: 'response.content_part.added', response_id: run.id, item_id: itemId, output_index: 0, content_index: 0, part: { type: 'audio', transcript: '' } });
    const audio = tone(text.length * msPerChar);
    const deltas = Math.ceil(audio.length / (deltaMs * 8));
    const words = text.split(' ');
    let wordsSent = 0;
    if (this.fake.malformed && on === 'greeting') this.junk(itemId);
    for (let k = 0; k < deltas; k++) {
      run.timers.push(this.later((k * deltaMs) / speedup, () => {
        if (run.cancelled) return;
        if (fault && k === (fault.afterDeltas ?? 2)) return this.inject(fault, run);
        // The transcript runs slightly ahead of the audio, as the real model's does.
        const upTo = Math.min(words.length, Math.ceil(((k + 2) * words.length) / deltas));
        if (upTo > wordsSent) {
          this.send({ type: 'response.output_audio_transcript.delta', response_id: run.id, item_id: itemId, output_index: 0, content_index: 0, delta: (wordsSent ? ' ' : '') + words.slice(wordsSent, upTo).join(' ') });
          wordsSent = upTo;
        }
        const chunk = audio.subarray(k * deltaMs * 8, (k + 1) * deltaMs * 8);
        this.send({ type: 'response.output_audio.delta', response_id: run.id, item_id: itemId, output_index: 0, content_index: 0, delta: chunk.toString('base64') });
      }));
    }
    run.timers.push(this.later((deltas * deltaMs) / speedup, () => {
      if (run.cancelled) return;
      this.send({ type: 'response.output_audio.done', response_id: run.id, item_id: itemId, output_index: 0, content_index: 0 });
      this.send({ type: 'response.output_audio_transcript.done', response_id: run.id, item_id: itemId, output_index: 0, content_index: 0, transcript: text });
      this.send({ type: 'response.content_part.done', response_id: run.id, item_id: itemId, output_index: 0, content_index: 0, part: { type: 'audio', transcript: text } });
      const done = { ...item, status: 'completed', content: [{ type: 'output_audio', transcript: text }] };
      this.send({ type: 'response.output_item.done', response_id: run.id, output_index: 0, item: done });
      this.send({ type: 'response.done', response: { id: run.id, object: 'realtime.response', status: 'completed', output: [done], metadata } });
      this.current = undefined;
    }));
  }

  private functionCall(tool: { name: string; arguments: Record<string, unknown> }): void {
    const run = this.startResponse({});
    const itemId = id('item');
    const callId = id('call');
    const args = JSON.stringify(tool.arguments);
    const item = { id: itemId, object: 'realtime.item', type: 'function_call', status: 'in_progress', call_id: callId, name: tool.name, arguments: '' };
    this.send({ type: 'response.output_item.added', response_id: run.id, output_index: 0, item });
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItem, item });
    this.lastItem = itemId;
    run.timers.push(this.later(30, () => {
      if (run.cancelled) return;
      this.send({ type: 'response.function_call_arguments.delta', response_id: run.id, item_id: itemId, output_index: 0, call_id: callId, delta: args });
      this.send({ type: 'response.function_call_arguments.done', response_id: run.id, item_id: itemId, output_index: 0, call_id: callId, name: tool.name, arguments: args });
      const done = { ...item, status: 'completed', arguments: args };
      this.send({ type: 'response.output_item.done', response_id: run.id, output_index: 0, item: done });
      this.send({ type: 'response.done', response: { id: run.id, object: 'realtime.response', status: 'completed', output: [done], metadata: null } });
      this.current = undefined;
    }));
  }

  /** The server cancels the running response (client's response.cancel, or VAD with interrupt_response). */
  private cancel(): void {
    const run = this.current;
    if (!run) return;
    this.current = undefined;
    run.cancelled = true;
    for (const t of run.timers) clearTimeout(t);
    this.send({ type: 'response.done', response: { id: run.id, object: 'realtime.response', status: 'cancelled', status_details: { type: 'cancelled', reason: 'client_cancelled' }, output: [] } });
  }

  private inject(fault: Fault, run: ResponseRun): void {
    run.cancelled = true;
    for (const t of run.timers) clearTimeout(t);
    this.current = undefined;
    if (fault.kind === 'close') return void this.ws.close(1011, 'internal error');
    if (fault.kind === 'stall') {
      this.stalled = true; // the socket stays open; nothing more is sent
      return;
    }
    const error = { type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request.' };
    this.send({ type: 'error', error: { ...error, event_id: null, param: null } });
    this.send({ type: 'response.done', response: { id: run.id, object: 'realtime.response', status: 'failed', status_details: { type: 'failed', error }, output: [] } });
  }

  /** Messages a client must survive: not JSON, binary, no type, bad audio, missing item, unknown type. */
  private junk(itemId: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send('{not json');
    this.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    this.ws.send(JSON.stringify({ no: 'type' }));
    this.ws.send(JSON.stringify({ type: 'response.output_audio.delta', item_id: itemId, delta: '%%%not base64%%%' }));
    this.ws.send(JSON.stringify({ type: 'response.output_audio.delta', item_id: itemId, delta: 12345 }));
    this.ws.send(JSON.stringify({ type: 'response.output_item.added' }));
    this.ws.send(JSON.stringify({ type: 'response.created', response: 'nope' }));
    this.ws.send(JSON.stringify({ type: 'conversation.item.input_audio_transcription.completed', item_id: 42 }));
    this.ws.send(JSON.stringify({ type: 'a.brand.new.event', whatever: true }));
  }
}

/** μ-law of a 300 Hz tone at a speaking level: audio a test can tell apart from silence. */
export function tone(ms: number): Buffer {
  const samples = Math.max(8, Math.round(ms * 8));
  const out = Buffer.alloc(samples);
  for (let i = 0; i < samples; i++) out[i] = encodeSample(Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 8000)));
  return out;
}
