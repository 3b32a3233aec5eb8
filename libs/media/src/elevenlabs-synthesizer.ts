import { WebSocket, type RawData } from 'ws';
import { SpeechAuthError, SpeechProviderError, type StreamingSpeechSynthesizer, type SynthesisVoice } from './speech.types.js';

export interface ElevenLabsOptions {
  /** Origin of the API, e.g. wss://api.elevenlabs.io (http(s) is turned into ws(s)). */
  url: string;
  apiKey: string;
  voiceId: string;
  modelId: string;
  /** Longest wait for the first audio, and between two messages, before the sentence counts as failed (ms). */
  timeoutMs: number;
  /** Malformed messages tolerated in one sentence. */
  maxInvalidMessages?: number;
}

interface ElevenLabsMessage {
  audio?: unknown;
  isFinal?: unknown;
  error?: unknown;
  message?: unknown;
}

/** Pre-opened sockets kept per process, and how long one waits for a sentence (ElevenLabs closes idle ones at 20 s). */
const MAX_SPARES = 8;
const SPARE_TTL_MS = 15_000;

interface Spare {
  ws: WebSocket;
  initSent: boolean;
  timer: NodeJS.Timeout;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const AUTH_REASON = /api.?key|unauthori[sz]ed|authenticat|permission|forbidden/i;

/**
 * ElevenLabs text-to-speech over its WebSocket input-streaming endpoint
 * (`/v1/text-to-speech/{voice}/stream-input`, `output_format=ulaw_8000` — Twilio's format, no
 * transcoding). One socket per sentence: the initial message (a single space, voice settings,
 * the key), the sentence with `flush`, then the empty text that ends the input; audio chunks
 * (base64) are handed on as they arrive, and `isFinal` completes the sentence. The official JS
 * SDK has no client for this endpoint, so the protocol is spoken with `ws`.
 */
export class ElevenLabsSynthesizer implements StreamingSpeechSynthesizer {
  readonly name = 'elevenlabs';
  private readonly spares: Spare[] = [];

  constructor(private readonly options: ElevenLabsOptions) {}

  /**
   * Opens a socket (and sends the initial message) for a sentence that is about to come, so the
   * TLS and WebSocket handshakes overlap the agent's thinking. Spares are shared by the calls of
   * the process, bounded, and closed unused before ElevenLabs' 20 s inactivity timeout.
   */
  prepare(): void {
    if (this.spares.length >= MAX_SPARES) return;
    const ws = this.connect();
    const spare: Spare = { ws, initSent: false, timer: setTimeout(() => drop(true), SPARE_TTL_MS) };
    spare.timer.unref();
    const drop = (close = false) => {
      const i = this.spares.indexOf(spare);
      if (i >= 0) this.spares.splice(i, 1);
      clearTimeout(spare.timer);
      if (close && ws.readyState === WebSocket.OPEN) {
        ws.send('{"text":""}');
        ws.close(1000);
      } else if (close) ws.terminate();
    };
    ws.on('open', () => {
      ws.send(this.initMessage());
      spare.initSent = true;
    });
    // A spare that fails is simply dropped: the sentence that needs it opens its own socket and reports the error.
    ws.on('unexpected-response', (req, res) => (res.resume(), req.destroy(), drop()));
    ws.on('error', () => drop());
    ws.on('close', () => drop());
    ws.on('message', () => drop(true)); // an unsolicited message (an error): not a usable socket
    this.spares.push(spare);
  }

  private take(): Spare | undefined {
    for (;;) {
      const spare = this.spares.shift();
      if (!spare) return undefined;
      clearTimeout(spare.timer);
      spare.ws.removeAllListeners();
      if (spare.ws.readyState === WebSocket.OPEN || spare.ws.readyState === WebSocket.CONNECTING) return spare;
    }
  }

  private connect(): WebSocket {
    return new WebSocket(this.streamUrl(), { headers: { 'xi-api-key': this.options.apiKey }, handshakeTimeout: this.options.timeoutMs });
  }

  private initMessage(): string {
    return JSON.stringify({
      text: ' ',
      voice_settings: { stability: 0.5, similarity_boost: 0.8, speed: 1 },
      // Smaller first chunks than the default [120, 160, 250, 290]: the first audio of a short phone sentence sooner.
      generation_config: { chunk_length_schedule: [50, 120, 160, 250] },
      'xi-api-key': this.options.apiKey,
    });
  }

  streamUrl(): string {
    const url = new URL(this.options.url.replace(/^http/, 'ws'));
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/text-to-speech/${encodeURIComponent(this.options.voiceId)}/stream-input`;
    url.searchParams.set('model_id', this.options.modelId);
    url.searchParams.set('output_format', 'ulaw_8000');
    return url.toString();
  }

  async synthesize(text: string, voice: SynthesisVoice, signal: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.synthesizeStream(text, voice, signal, (chunk) => chunks.push(chunk));
    return Buffer.concat(chunks);
  }

  synthesizeStream(text: string, _voice: SynthesisVoice, signal: AbortSignal, onAudio: (mulaw: Buffer) => void): Promise<void> {
    const clean = text.replace(/[\u0000-\u001f]/g, ' ').trim().slice(0, 2000);
    if (!clean) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    const { timeoutMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      const spare = this.take();
      const ws = spare?.ws ?? this.connect();
      let settled = false;
      let invalid = 0;
      let gotAudio = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        ws.removeAllListeners('message');
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
          if (error) ws.terminate();
          else ws.close(1000);
        }
        if (error) reject(error);
        else resolve();
      };
      // A stalled provider must not hold the sentence (and the caller) hostage.
      const timer = setTimeout(() => finish(new SpeechProviderError(`elevenlabs sent no audio within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = () => finish((signal.reason as Error | undefined) ?? new DOMException('aborted', 'AbortError'));
      signal.addEventListener('abort', onAbort, { once: true });
      ws.on('unexpected-response', (req, res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        req.destroy();
        finish(
          status === 401 || status === 403
            ? new SpeechAuthError(`elevenlabs refused the API key (HTTP ${status}): check ELEVENLABS_API_KEY`)
            : new SpeechProviderError(`elevenlabs refused the stream (HTTP ${status})`),
        );
      });
      ws.on('error', (err) => finish(new SpeechProviderError(`elevenlabs socket error: ${err.message}`)));
      ws.on('close', (code, reason) => {
        const why = reason.toString().slice(0, 200);
        finish(
          code === 1008 && AUTH_REASON.test(why)
            ? new SpeechAuthError(`elevenlabs refused the API key (${code} ${why}): check ELEVENLABS_API_KEY`)
            : new SpeechProviderError(`elevenlabs closed the stream before the end of the audio (${code}${why ? ` ${why}` : ''})`),
        );
      });
      const begin = () => {
        if (!spare?.initSent) ws.send(this.initMessage());
        ws.send(JSON.stringify({ text: `${clean} `, flush: true }));
        ws.send('{"text":""}');
      };
      if (ws.readyState === WebSocket.OPEN) begin();
      else ws.on('open', begin);
      const malformed = () => {
        if (++invalid > (this.options.maxInvalidMessages ?? 10)) finish(new SpeechProviderError(`elevenlabs sent ${invalid} malformed messages`));
      };
      ws.on('message', (data: RawData, isBinary: boolean) => {
        let message: ElevenLabsMessage;
        try {
          if (isBinary) throw new Error('binary');
          message = JSON.parse(String(data)) as ElevenLabsMessage;
          if (!message || typeof message !== 'object') throw new Error('not an object');
        } catch {
          return malformed();
        }
        if (message.audio !== undefined && message.audio !== null && (typeof message.audio !== 'string' || !BASE64.test(message.audio))) return malformed();
        if (typeof message.audio === 'string' && message.audio) {
          const audio = Buffer.from(message.audio, 'base64');
          if (audio.length) {
            gotAudio = true;
            timer.refresh();
            onAudio(audio);
          }
        }
        if (message.isFinal === true) return finish(gotAudio ? undefined : new SpeechProviderError('elevenlabs finished without audio'));
        if (message.audio === undefined && message.isFinal === undefined && (message.error !== undefined || message.message !== undefined)) {
          const why = String(message.message ?? message.error).slice(0, 200);
          finish(AUTH_REASON.test(why) ? new SpeechAuthError(`elevenlabs refused the API key (${why}): check ELEVENLABS_API_KEY`) : new SpeechProviderError(`elevenlabs error: ${why}`));
        }
      });
    });
  }
}
