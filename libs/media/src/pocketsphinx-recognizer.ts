import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runProcess } from './child-process.js';
import { GrammarFiles } from './grammar-files.js';
import { mulawToPcm16 } from './mulaw.js';
import type { RecognitionContext, SpeechRecognizer, Transcript } from './speech.types.js';
import { pcm16ToWav, upsample2x } from './wav.js';

export interface PocketsphinxOptions {
  /** pocketsphinx_continuous binary (pocketsphinx 0.8). */
  binary: string;
  /** Pronunciation dictionary of the acoustic model (grammar words are checked against it). */
  dictionary: string;
  timeoutMs: number;
}

/** Confidence reported for a grammar match (pocketsphinx 0.8's CLI prints no score). */
const MATCH_CONFIDENCE = 0.85;

/**
 * The per-utterance offline recogniser (the original pipeline, kept as the benchmarks' baseline
 * with POCKETSPHINX_MODE=process): one pocketsphinx_continuous process per utterance, which
 * reloads the model every time, with unbounded beams. ResidentPocketsphinxRecognizer is the default.
 */
export class PocketsphinxRecognizer implements SpeechRecognizer {
  readonly name = 'pocketsphinx';
  private readonly files: GrammarFiles;
  private counter = 0;

  constructor(private readonly options: PocketsphinxOptions) {
    this.files = new GrammarFiles(options.dictionary);
  }

  async recognize(mulaw: Buffer, context: RecognitionContext, signal: AbortSignal): Promise<Transcript> {
    if (mulaw.length < 1600) return { text: '', confidence: 0 }; // under 0.2 s: nothing to hear
    const grammarFile = await this.files.file(context.grammar);
    // pocketsphinx 0.8 fopen()s its input, which fails on Node's socket-based stdin: use a file.
    const input = join(dirname(grammarFile), `u${++this.counter}.wav`);
    await writeFile(input, pcm16ToWav(upsample2x(mulawToPcm16(mulaw)), 16000));
    let out: Buffer;
    try {
      out = await runProcess(
        this.options.binary,
        ['-infile', input, '-jsgf', grammarFile, '-logfn', '/dev/null', '-remove_noise', 'no',
          '-beam', '1e-100', '-pbeam', '1e-100', '-wbeam', '1e-80', '-maxhmmpf', '-1'],
        { signal, timeoutMs: this.options.timeoutMs, maxOutputBytes: 64 * 1024 },
      );
    } finally {
      await rm(input, { force: true }).catch(() => undefined);
    }
    const text = out.toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
    return { text, confidence: text ? MATCH_CONFIDENCE : 0 };
  }

  /** Never: every recognition here reloads the model, so work that may be thrown away is not worth it. */
  hasSpareCapacity(): boolean {
    return false;
  }

  /** Removes the compiled grammar files. */
  async dispose(): Promise<void> {
    await this.files.dispose();
  }
}
