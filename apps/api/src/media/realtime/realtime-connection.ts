import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { RealtimeClientEvent } from 'openai/resources/realtime/realtime';

/** Name used in logs and stored events, so an operator knows which provider failed. */
export const REALTIME_PROVIDER = 'openai-realtime';

/** Why the model socket is gone (or never opened). */
export type RealtimeFailure =
  | { kind: 'refused'; status: number; detail: string }
  | { kind: 'unreachable'; detail: string }
  | { kind: 'timeout'; detail: string }
  | { kind: 'closed'; code: number; detail: string };

/** One server event: its `type` checked, the rest validated by whoever reads it. */
export type ServerEvent = { type: string } & Record<string, unknown>;

export interface RealtimeConnectionOptions {
  /** The Realtime endpoint; the model is added as `?model=` as OpenAI's protocol passes it. */
  url: string;
  model: string;
  apiKey?: string;
  connectTimeoutMs: number;
}

export interface RealtimeConnectionHandlers {
  open(): void;
  event(event: ServerEvent): void;
  malformed(reason: string): void;
  /** Called once, when the socket is gone for any reason other than our own `close()`. */
  failed(failure: RealtimeFailure): void;
}

/** Control events queued while the socket connects (session, greeting): a handful per call. */
const MAX_QUEUED_EVENTS = 64;
/** Above this much unsent data, caller audio is dropped (counted) rather than queued without bound. */
const MAX_BUFFERED_BYTES = 512 * 1024;
/** Largest server message accepted (an audio delta is a few KB; a session echo a few tens). */
const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
const AZURE_HOST = /\.(openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/i;

/**
 * The WebSocket to an OpenAI Realtime endpoint (OpenAI, Azure OpenAI, or a local fake). Built on
 * `ws` directly: the upgrade's HTTP status (401, 429) is visible, plain `ws://` works for a
 * local server, and a caller frame costs one string concatenation and one `send`.
 */
export class RealtimeConnection {
  private readonly ws: WebSocket;
  private readonly queued: string[] = [];
  private done = false;
  /** Caller audio appends not sent because the socket was backed up or not open. */
  droppedAudio = 0;

  constructor(
    options: RealtimeConnectionOptions,
    private readonly handlers: RealtimeConnectionHandlers,
  ) {
    const url = new URL(options.url);
    url.searchParams.set('model', options.model);
    const headers: Record<string, string> = {};
    if (options.apiKey) {
      headers.authorization = `Bearer ${options.apiKey}`;
      // Azure accepts its own header for API keys; OpenAI ignores it.
      if (AZURE_HOST.test(url.hostname)) headers['api-key'] = options.apiKey;
    }
    this.ws = new WebSocket(url, { headers, handshakeTimeout: options.connectTimeoutMs, perMessageDeflate: false, maxPayload: MAX_MESSAGE_BYTES });
    this.ws.on('unexpected-response', (req, res) => this.refused(req, res));
    this.ws.on('open', () => {
      for (const message of this.queued.splice(0)) this.ws.send(message);
      handlers.open();
    });
    this.ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    this.ws.on('error', (err) => {
      const timeout = /timed out/i.test(err.message);
      this.fail(timeout ? { kind: 'timeout', detail: err.message } : { kind: 'unreachable', detail: err.message });
    });
    this.ws.on('close', (code, reason) => this.fail({ kind: 'closed', code, detail: reason.toString().slice(0, 200) }));
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A client event; queued (bounded) while the socket connects. */
  send(event: RealtimeClientEvent): void {
    this.sendText(JSON.stringify(event));
  }

  /** Caller audio, μ-law passed through: the base64 payload is spliced into the event as is. */
  appendAudio(base64: string): void {
    if (!this.open || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.droppedAudio++;
      return;
    }
    this.ws.send(`{"type":"input_audio_buffer.append","audio":"${base64}"}`);
  }

  /** Closes the socket; `failed` is not called for it. */
  close(): void {
    this.done = true;
    this.queued.length = 0;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, 'call ended');
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private sendText(text: string): void {
    if (this.done) return;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else if (this.ws.readyState === WebSocket.CONNECTING && this.queued.length < MAX_QUEUED_EVENTS) this.queued.push(text);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.done) return;
    if (isBinary) return this.handlers.malformed('binary frame');
    let event: unknown;
    try {
      event = JSON.parse(data.toString('utf8'));
    } catch {
      return this.handlers.malformed('not JSON');
    }
    if (!event || typeof event !== 'object' || Array.isArray(event) || typeof (event as { type?: unknown }).type !== 'string') {
      return this.handlers.malformed('no event type');
    }
    this.handlers.event(event as ServerEvent);
  }

  /** The upgrade got an HTTP answer instead of a socket (401 bad key, 429 rate limit, 404 model …). */
  private refused(req: import('node:http').ClientRequest, res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < 1000) body += chunk;
    });
    const finish = () => {
      req.destroy();
      this.fail({ kind: 'refused', status, detail: errorMessage(body) });
    };
    res.once('end', finish);
    res.once('error', finish);
    res.once('close', finish);
  }

  private fail(failure: RealtimeFailure): void {
    if (this.done) return;
    this.done = true;
    this.queued.length = 0;
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    this.handlers.failed(failure);
  }
}

/** The `error.message` of OpenAI's JSON error body, else the start of the body. */
function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown; code?: unknown } };
    if (typeof parsed.error?.message === 'string') return `${parsed.error.code ? `${String(parsed.error.code)}: ` : ''}${parsed.error.message}`.slice(0, 300);
  } catch {
    // not JSON
  }
  return body.slice(0, 300);
}
