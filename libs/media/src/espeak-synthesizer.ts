import { runProcess } from './child-process.js';
import type { SpeechSynthesizer, SynthesisVoice } from './speech.types.js';

export interface EspeakOptions {
  /** espeak-ng binary. */
  espeak: string;
  /** sox binary (resamples espeak's 22.05 kHz WAV to 8 kHz μ-law). */
  sox: string;
  /** Words per minute. */
  rate: number;
  timeoutMs: number;
}

/** espeak-ng voices are named by language ("en-us"); Twilio/Polly voice names are ignored. */
function espeakVoice(voice: SynthesisVoice): string {
  return /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/i.test(voice.language) ? voice.language.toLowerCase() : 'en-us';
}

/**
 * The embedded offline TTS: espeak-ng → WAV → sox → raw 8 kHz μ-law. The text goes through
 * stdin, never the command line, so it cannot be read as an option.
 */
export class EspeakSynthesizer implements SpeechSynthesizer {
  readonly name = 'espeak';

  constructor(private readonly options: EspeakOptions) {}

  async synthesize(text: string, voice: SynthesisVoice, signal: AbortSignal): Promise<Buffer> {
    const clean = text.replace(/[\u0000-\u001f]/g, ' ').trim().slice(0, 2000);
    if (!clean) return Buffer.alloc(0);
    const wav = await runProcess(this.options.espeak, ['-v', espeakVoice(voice), '-s', String(this.options.rate), '--stdin', '--stdout'], {
      input: clean,
      signal,
      timeoutMs: this.options.timeoutMs,
      maxOutputBytes: 8 * 1024 * 1024,
    });
    // -D: no dither, so the same sentence always yields the same audio.
    return runProcess(this.options.sox, ['-D', '-t', 'wav', '-', '-r', '8000', '-c', '1', '-e', 'mu-law', '-b', '8', '-t', 'raw', '-'], {
      input: wav,
      signal,
      timeoutMs: this.options.timeoutMs,
      maxOutputBytes: 4 * 1024 * 1024,
    });
  }
}
