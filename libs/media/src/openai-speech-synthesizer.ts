import { AuthenticationError, OpenAI, PermissionDeniedError } from 'openai';
import { encodeSample } from './mulaw.js';
import { SpeechAuthError, SpeechProviderError, type StreamingSpeechSynthesizer, type SynthesisVoice } from './speech.types.js';

export interface OpenAiSpeechOptions {
  /** OpenAI-compatible API base (…/v1); OpenAI's own when unset. */
  baseURL?: string;
  apiKey: string;
  model: string;
  voice: string;
  /** Longest wait for the response to start, and between two body chunks (ms). */
  timeoutMs: number;
}

/**
 * Streaming 24 kHz → 8 kHz PCM16 → μ-law: each output sample is the mean of three input
 * samples (a box filter: crude, but it keeps the 4 kHz telephone band free of the worst
 * aliasing and costs nothing). Carries odd bytes and partial triples across chunks.
 */
export class Downsample24kToMulaw {
  private carry = Buffer.alloc(0);

  push(pcm: Buffer): Buffer {
    const data = this.carry.length ? Buffer.concat([this.carry, pcm]) : pcm;
    const triples = Math.floor(data.length / 6);
    const out = Buffer.allocUnsafe(triples);
    for (let i = 0; i < triples; i++) {
      const o = i * 6;
      out[i] = encodeSample((data.readInt16LE(o) + data.readInt16LE(o + 2) + data.readInt16LE(o + 4)) / 3);
    }
    this.carry = Buffer.from(data.subarray(triples * 6));
    return out;
  }
}

/**
 * OpenAI's speech endpoint (`POST /v1/audio/speech`, `response_format: pcm` = 24 kHz 16-bit
 * mono) through the `openai` client, its body read as it streams and resampled to Twilio's
 * 8 kHz μ-law on the fly.
 */
export class OpenAiSpeechSynthesizer implements StreamingSpeechSynthesizer {
  readonly name = 'openai-tts';
  private readonly client: OpenAI;

  constructor(private readonly options: OpenAiSpeechOptions) {
    // No client retries: a retried sentence arrives too late to be useful; the fallback voice speaks it instead.
    this.client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0, timeout: options.timeoutMs });
  }

  async synthesize(text: string, voice: SynthesisVoice, signal: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.synthesizeStream(text, voice, signal, (chunk) => chunks.push(chunk));
    return Buffer.concat(chunks);
  }

  async synthesizeStream(text: string, _voice: SynthesisVoice, signal: AbortSignal, onAudio: (mulaw: Buffer) => void): Promise<void> {
    const input = text.replace(/[\u0000-\u001f]/g, ' ').trim().slice(0, 4000);
    if (!input) return;
    const stall = new AbortController();
    const onAbort = () => stall.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stall.abort(new SpeechProviderError(`openai-tts sent no audio within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    try {
      const response = await this.client.audio.speech.create(
        { model: this.options.model, voice: this.options.voice, input, response_format: 'pcm' },
        { signal: stall.signal },
      );
      if (!response.body) throw new SpeechProviderError('openai-tts answered without a body');
      const resampler = new Downsample24kToMulaw();
      let bytes = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        timer.refresh();
        bytes += chunk.length;
        const mulaw = resampler.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (mulaw.length) onAudio(mulaw);
      }
      if (!bytes) throw new SpeechProviderError('openai-tts finished without audio');
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      if (stall.signal.aborted && stall.signal.reason instanceof SpeechProviderError) throw stall.signal.reason;
      if (err instanceof AuthenticationError || err instanceof PermissionDeniedError) {
        throw new SpeechAuthError(`openai-tts refused the API key (HTTP ${err.status}): check OPENAI_API_KEY`);
      }
      if (err instanceof SpeechProviderError) throw err;
      throw new SpeechProviderError(`openai-tts failed: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
