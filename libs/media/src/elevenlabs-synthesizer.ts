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

  constructor(private readonly options: ElevenLabsOptions) {}

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
    const { apiKey, timeoutMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.streamUrl(), { headers: { 'xi-api-key': apiKey }, handshakeTimeout: timeoutMs });
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
      const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
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
      ws.on('open', () => {
        ws.send(JSON.stringify({
          text: ' ',
          voice_settings: { stability: 0.5, similarity_boost: 0.8, speed: 1 },
          // Smaller first chunks than the default [120, 160, 250, 290]: the first audio of a short phone sentence sooner.
          generation_config: { chunk_length_schedule: [50, 120, 160, 250] },
          'xi-api-key': apiKey,
        }));
        ws.send(JSON.stringify({ text: `${clean} `, flush: true }));
        ws.send('{"text":""}');
      });
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
