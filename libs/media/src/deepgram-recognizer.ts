import { WebSocket, type RawData } from 'ws';
import {
  SpeechAuthError, SpeechProviderError, type RecognitionContext, type StreamingRecognitionListener, type StreamingRecognitionSession,
  type StreamingSpeechRecognizer, type Transcript,
} from './speech.types.js';

export interface DeepgramOptions {
  /** The live endpoint, e.g. wss://api.deepgram.com/v1/listen. */
  url: string;
  apiKey: string;
  model: string;
  /** Silence (ms) after which Deepgram sends `speech_final`. */
  endpointingMs: number;
  /** Gap (ms) in words after which Deepgram sends `UtteranceEnd` (a fallback when noise defeats endpointing). */
  utteranceEndMs: number;
  /** Handshake deadline (ms). */
  connectTimeoutMs: number;
  /** Malformed messages tolerated before the session counts as failed. */
  maxInvalidMessages?: number;
}

/** Audio kept while the socket is still connecting (2 s of 8 kHz μ-law); older audio is dropped. */
const MAX_PENDING_BYTES = 16_000;
/** Deepgram closes a stream that gets nothing for 10 s (NET-0001); Twilio normally streams continuously. */
const KEEPALIVE_MS = 5000;
/** Most keyterms sent as hints (a long query string helps nobody). */
const MAX_KEYTERMS = 40;

interface DeepgramAlternative {
  transcript?: unknown;
  confidence?: unknown;
}

interface DeepgramMessage {
  type?: unknown;
  is_final?: unknown;
  speech_final?: unknown;
  channel?: { alternatives?: DeepgramAlternative[] };
  description?: unknown;
  message?: unknown;
}

/**
 * Deepgram live transcription over its WebSocket protocol (`/v1/listen`), spoken directly with
 * `ws`: the v5 SDK wraps the socket in a reconnecting client that hides the handshake status
 * (a refused key looks like a network error) and reconnects after a random 1–5 s — dead air on
 * a phone call. One socket per call; μ-law 8 kHz in; interim results, VAD events, endpointing
 * and utterance-end on.
 */
export class DeepgramRecognizer implements StreamingSpeechRecognizer {
  readonly name = 'deepgram';

  constructor(private readonly options: DeepgramOptions) {}

  /** The URL of a call's stream: every setting travels as a query parameter. */
  streamUrl(context: RecognitionContext): string {
    const url = new URL(this.options.url);
    const params: Record<string, string> = {
      encoding: 'mulaw',
      sample_rate: '8000',
      channels: '1',
      model: this.options.model,
      language: context.language,
      interim_results: 'true',
      punctuate: 'true',
      endpointing: String(this.options.endpointingMs),
      utterance_end_ms: String(this.options.utteranceEndMs),
      vad_events: 'true',
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    // Nova-3 takes keyterm prompts; earlier models take keywords. The agent's topic words help either way.
    const hint = this.options.model.startsWith('nova-3') ? 'keyterm' : 'keywords';
    for (const word of context.grammar.keywords.slice(0, MAX_KEYTERMS)) url.searchParams.append(hint, word);
    return url.toString();
  }

  start(context: RecognitionContext, listener: StreamingRecognitionListener): StreamingRecognitionSession {
    return new DeepgramSession(this.streamUrl(context), this.options, listener);
  }
}

class DeepgramSession implements StreamingRecognitionSession {
  private readonly ws: WebSocket;
  private finals: Transcript[] = [];
  private interimText = '';
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;
  private invalid = 0;
  private lastSentAt = Date.now();
  private connectTimer?: NodeJS.Timeout;
  private keepAlive?: NodeJS.Timeout;
  /** Audio frames not delivered (socket not open, or pending buffer full). */
  dropped = 0;

  constructor(
    url: string,
    private readonly options: DeepgramOptions,
    private readonly listener: StreamingRecognitionListener,
  ) {
    this.ws = new WebSocket(url, { headers: { Authorization: `Token ${options.apiKey}` }, handshakeTimeout: options.connectTimeoutMs });
    this.connectTimer = setTimeout(() => this.fail(new SpeechProviderError(`deepgram did not accept the stream within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
    this.connectTimer.unref();
    this.ws.on('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      this.fail(
        status === 401 || status === 403
          ? new SpeechAuthError(`deepgram refused the API key (HTTP ${status}): check DEEPGRAM_API_KEY`)
          : new SpeechProviderError(`deepgram refused the stream (HTTP ${status})`),
      );
    });
    this.ws.on('open', () => this.onOpen());
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('error', (err) => this.fail(new SpeechProviderError(`deepgram socket error: ${err.message}`)));
    this.ws.on('close', (code, reason) => this.fail(new SpeechProviderError(`deepgram closed the stream (${code}${reason.length ? ` ${reason.toString().slice(0, 120)}` : ''})`)));
  }

  sendAudio(frame: Buffer): void {
    if (this.closed) return;
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(Buffer.from(frame)); // the caller may reuse `frame`
      this.lastSentAt = Date.now();
      return;
    }
    if (this.ws.readyState !== WebSocket.CONNECTING) {
      this.dropped++;
      return;
    }
    this.pending.push(Buffer.from(frame));
    this.pendingBytes += frame.length;
    while (this.pendingBytes > MAX_PENDING_BYTES) {
      this.pendingBytes -= this.pending.shift()!.length;
      this.dropped++;
    }
  }

  pendingText(): Transcript {
    if (this.finals.length) return joinTranscripts(this.finals);
    return { text: this.interimText, confidence: this.interimText ? 0.7 : 0 };
  }

  resetTurn(): void {
    this.finals = [];
    this.interimText = '';
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    if (this.ws.readyState === WebSocket.OPEN) {
      // CloseStream asks Deepgram to finish and close; nothing it says after this is wanted.
      this.ws.send('{"type":"CloseStream"}');
      this.ws.close(1000);
    } else {
      this.ws.terminate();
    }
  }

  private onOpen(): void {
    if (this.closed) return;
    clearTimeout(this.connectTimer);
    for (const frame of this.pending) this.ws.send(frame);
    this.pending = [];
    this.pendingBytes = 0;
    this.keepAlive = setInterval(() => {
      if (Date.now() - this.lastSentAt >= KEEPALIVE_MS - 100 && this.ws.readyState === WebSocket.OPEN) this.ws.send('{"type":"KeepAlive"}');
    }, KEEPALIVE_MS);
    this.keepAlive.unref();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    let message: DeepgramMessage;
    try {
      if (isBinary) throw new Error('binary');
      message = JSON.parse(String(data)) as DeepgramMessage;
      if (!message || typeof message !== 'object') throw new Error('not an object');
    } catch {
      return this.malformed();
    }
    switch (message.type) {
      case 'Results':
        return this.onResults(message);
      case 'SpeechStarted':
        return this.listener.speechStarted();
      case 'UtteranceEnd':
        // Endpointing did not fire (noise), but the words stopped: the turn is over if anything was final.
        if (this.finals.length) this.endTurn();
        return;
      case 'Metadata':
        return;
      case 'Error':
        return this.fail(new SpeechProviderError(`deepgram reported an error: ${String(message.description ?? message.message ?? 'unknown').slice(0, 200)}`));
      default:
        return this.malformed();
    }
  }

  private onResults(message: DeepgramMessage): void {
    const alternative = message.channel?.alternatives?.[0];
    if (!alternative || typeof alternative.transcript !== 'string') return this.malformed();
    const text = alternative.transcript.trim();
    const confidence = typeof alternative.confidence === 'number' ? alternative.confidence : 0;
    if (message.is_final !== true) {
      if (!text) return;
      // Interim results cover only the audio since the last final: report the whole turn so far.
      this.interimText = [...this.finals.map((f) => f.text), text].join(' ');
      this.listener.interim(this.interimText);
      return;
    }
    if (text) this.finals.push({ text, confidence });
    this.interimText = '';
    if (message.speech_final === true && this.finals.length) this.endTurn();
  }

  private endTurn(): void {
    const transcript = joinTranscripts(this.finals);
    this.resetTurn();
    this.listener.endOfTurn(transcript);
  }

  private malformed(): void {
    this.invalid++;
    if (this.invalid > (this.options.maxInvalidMessages ?? 20)) this.fail(new SpeechProviderError(`deepgram sent ${this.invalid} malformed messages`));
  }

  private fail(error: SpeechProviderError): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.ws.removeAllListeners('message');
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    this.listener.failed(error);
  }

  private stopTimers(): void {
    clearTimeout(this.connectTimer);
    clearInterval(this.keepAlive);
  }
}

function joinTranscripts(parts: Transcript[]): Transcript {
  if (!parts.length) return { text: '', confidence: 0 };
  return {
    text: parts.map((p) => p.text).join(' '),
    confidence: parts.reduce((sum, p) => sum + p.confidence, 0) / parts.length,
  };
}
