import type { AppConfig } from '#libs/config';
import { CachingSynthesizer, ResidentPocketsphinxRecognizer, type SpeechSynthesizer } from '#libs/media';

/** The resident recogniser (model loaded once per process), unless POCKETSPHINX_MODE=process asks for main's baseline. */
export function offlineRecognizer(config: AppConfig): ResidentPocketsphinxRecognizer | undefined {
  if (config.POCKETSPHINX_MODE !== 'resident') return undefined;
  return new ResidentPocketsphinxRecognizer({
    binary: config.POCKETSPHINX_BATCH_BIN,
    dictionary: config.POCKETSPHINX_DICT,
    poolSize: config.POCKETSPHINX_POOL_SIZE,
    maxQueue: config.POCKETSPHINX_QUEUE_MAX,
    timeoutMs: 8000,
  });
}

/** `inner` behind the sentence cache (unless MEDIA_TTS_CACHE_MB=0). */
export function offlineSynthesizer(config: AppConfig, inner: SpeechSynthesizer): SpeechSynthesizer {
  return config.MEDIA_TTS_CACHE_MB > 0 ? new CachingSynthesizer(inner, { maxBytes: config.MEDIA_TTS_CACHE_MB * 2 ** 20 }) : inner;
}

