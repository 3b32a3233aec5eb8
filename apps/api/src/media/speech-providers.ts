import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { EspeakSynthesizer, PocketsphinxRecognizer, ResidentPocketsphinxRecognizer, type SpeechRecognizer, type SpeechSynthesizer } from '#libs/media';
import { offlineRecognizer, offlineSynthesizer } from './offline-providers.js';

export const SPEECH_RECOGNIZER = Symbol('SPEECH_RECOGNIZER');
export const SPEECH_SYNTHESIZER = Symbol('SPEECH_SYNTHESIZER');

/** Hears nothing: for load tests that measure the gateway, not a recogniser. */
class SilentRecognizer implements SpeechRecognizer {
  readonly name = 'none';
  async recognize() {
    return { text: '', confidence: 0 };
  }
}

/** Owns the configured providers and their temporary files. */
@Injectable()
export class SpeechProviders implements OnModuleDestroy {
  readonly recognizer: SpeechRecognizer;
  readonly synthesizer: SpeechSynthesizer;

  constructor(config: AppConfig) {
    this.recognizer =
      config.MEDIA_STT_PROVIDER === 'none'
        ? new SilentRecognizer()
        : offlineRecognizer(config) ?? new PocketsphinxRecognizer({ binary: config.POCKETSPHINX_BIN, dictionary: config.POCKETSPHINX_DICT, timeoutMs: 8000 });
    this.synthesizer = offlineSynthesizer(config, new EspeakSynthesizer({ espeak: config.ESPEAK_BIN, sox: config.SOX_BIN, rate: config.ESPEAK_RATE, timeoutMs: 8000 }));
  }

  async onModuleDestroy(): Promise<void> {
    if (this.recognizer instanceof PocketsphinxRecognizer || this.recognizer instanceof ResidentPocketsphinxRecognizer) await this.recognizer.dispose();
  }
}
