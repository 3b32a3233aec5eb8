import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import {
  DeepgramRecognizer, ElevenLabsSynthesizer, EspeakSynthesizer, OpenAiSpeechSynthesizer, PocketsphinxRecognizer, ResidentPocketsphinxRecognizer, SpeechAuthError, type SpeechRecognizer,
  type SpeechSynthesizer, type StreamingSpeechRecognizer, type StreamingSpeechSynthesizer, type SynthesisVoice,
} from '#libs/media';
import { offlineRecognizer, offlineSynthesizer } from './offline-providers.js';


export const SPEECH_RECOGNIZER = Symbol('SPEECH_RECOGNIZER');
export const SPEECH_SYNTHESIZER = Symbol('SPEECH_SYNTHESIZER');

/** After a provider refused our key, how long every sentence goes straight to the offline voice. */
const AUTH_BACKOFF_MS = 60_000;

/** Hears nothing: for load tests that measure the gateway, not a recogniser. */
class SilentRecognizer implements SpeechRecognizer {
  readonly name = 'none';
  async recognize() {
    return { text: '', confidence: 0 };
  }
}

/**
 * A cloud voice with the offline one behind it: a sentence the cloud provider cannot speak
 * (refused key, socket closed, stalled past the timeout, garbage) is spoken by espeak instead,
 * so the caller never waits in silence. A refused key is not retried for a minute.
 */
export class FallbackSynthesizer implements StreamingSpeechSynthesizer {
  private readonly logger = new Logger('SpeechProviders');
  private disabledUntil = 0;
  readonly name: string;

  constructor(
    private readonly primary: StreamingSpeechSynthesizer,
    private readonly fallback: SpeechSynthesizer,
    private readonly now: () => number = Date.now,
  ) {
    this.name = `${primary.name}+${fallback.name}`;
  }

  async synthesize(text: string, voice: SynthesisVoice, signal: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.synthesizeStream(text, voice, signal, (chunk) => chunks.push(chunk));
    return Buffer.concat(chunks);
  }

  prepare(): void {
    if (this.now() >= this.disabledUntil) this.primary.prepare?.();
  }

  async synthesizeStream(text: string, voice: SynthesisVoice, signal: AbortSignal, onAudio: (mulaw: Buffer) => void): Promise<void> {
    if (this.now() >= this.disabledUntil) {
      let delivered = false;
      try {
        await this.primary.synthesizeStream(text, voice, signal, (chunk) => {
          delivered = true;
          onAudio(chunk);
        });
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        if (err instanceof SpeechAuthError) {
          this.disabledUntil = this.now() + AUTH_BACKOFF_MS;
          this.logger.error({ provider: this.primary.name, err: err.message }, `${this.primary.name} text-to-speech refused our credentials: speaking with ${this.fallback.name} for the next ${AUTH_BACKOFF_MS / 1000} s`);
        } else {
          this.logger.warn({ provider: this.primary.name, err: (err as Error).message }, `${this.primary.name} text-to-speech failed${delivered ? ' mid-sentence' : `: speaking the sentence with ${this.fallback.name}`}`);
        }
        // Part of the sentence was already heard: saying it all again would be worse than stopping.
        if (delivered) throw err;
      }
    }
    onAudio(await this.fallback.synthesize(text, voice, signal));
  }
}

/** Owns the configured providers and their temporary files. */
@Injectable()
export class SpeechProviders implements OnModuleDestroy {
  /** One-utterance recogniser: the pipeline's default, and the fallback when a streaming one fails. */
  readonly recognizer: SpeechRecognizer;
  /** A streaming cloud recogniser, when configured: it replaces the VAD + `recognizer` path per call. */
  readonly streamingRecognizer?: StreamingSpeechRecognizer;
  readonly synthesizer: SpeechSynthesizer;

  constructor(config: AppConfig) {
    this.recognizer =
      config.MEDIA_STT_PROVIDER === 'none'
        ? new SilentRecognizer()
        : offlineRecognizer(config) ?? new PocketsphinxRecognizer({ binary: config.POCKETSPHINX_BIN, dictionary: config.POCKETSPHINX_DICT, timeoutMs: 8000 });
    if (config.MEDIA_STT_PROVIDER === 'deepgram') {
      this.streamingRecognizer = new DeepgramRecognizer({
        url: config.DEEPGRAM_URL,
        apiKey: config.DEEPGRAM_API_KEY!,
        model: config.DEEPGRAM_MODEL,
        endpointingMs: config.DEEPGRAM_ENDPOINTING_MS,
        utteranceEndMs: config.DEEPGRAM_UTTERANCE_END_MS,
        connectTimeoutMs: config.MEDIA_PROVIDER_TIMEOUT_MS,
      });
    }
    const espeak = offlineSynthesizer(config, new EspeakSynthesizer({ espeak: config.ESPEAK_BIN, sox: config.SOX_BIN, rate: config.ESPEAK_RATE, timeoutMs: 8000 }));
    if (config.MEDIA_TTS_PROVIDER === 'elevenlabs') {
      const elevenlabs = new ElevenLabsSynthesizer({
        url: config.ELEVENLABS_URL,
        apiKey: config.ELEVENLABS_API_KEY!,
        voiceId: config.ELEVENLABS_VOICE_ID,
        modelId: config.ELEVENLABS_MODEL_ID,
        timeoutMs: config.MEDIA_PROVIDER_TIMEOUT_MS,
      });
      this.synthesizer = new FallbackSynthesizer(elevenlabs, espeak);
    } else if (config.MEDIA_TTS_PROVIDER === 'openai') {
      const openai = new OpenAiSpeechSynthesizer({
        baseURL: config.OPENAI_BASE_URL,
        apiKey: config.OPENAI_API_KEY!,
        model: config.OPENAI_TTS_MODEL,
        voice: config.OPENAI_TTS_VOICE,
        timeoutMs: config.MEDIA_PROVIDER_TIMEOUT_MS,
      });
      this.synthesizer = new FallbackSynthesizer(openai, espeak);
    } else {
      this.synthesizer = espeak;
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.recognizer instanceof PocketsphinxRecognizer || this.recognizer instanceof ResidentPocketsphinxRecognizer) await this.recognizer.dispose();
  }
}
