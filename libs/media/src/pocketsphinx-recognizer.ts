import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { runProcess } from './child-process.js';
import { buildJsgf, grammarWords } from './jsgf-grammar.js';
import { mulawToPcm16 } from './mulaw.js';
import type { RecognitionContext, SpeechGrammar, SpeechRecognizer, Transcript } from './speech.types.js';
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
 * The embedded offline recogniser: Debian's pocketsphinx 0.8 CLI with a JSGF grammar built from
 * the agent's vocabulary. The 16 kHz en-us model hears 8 kHz audio upsampled; the beams are
 * wide because narrowband input otherwise fails the grammar ("final result does not match").
 */
export class PocketsphinxRecognizer implements SpeechRecognizer {
  readonly name = 'pocketsphinx';
  private readonly grammars = new Map<string, Promise<string>>();
  private dir?: Promise<string>;
  private counter = 0;

  constructor(private readonly options: PocketsphinxOptions) {}

  async recognize(mulaw: Buffer, context: RecognitionContext, signal: AbortSignal): Promise<Transcript> {
    if (mulaw.length < 1600) return { text: '', confidence: 0 }; // under 0.2 s: nothing to hear
    const grammarFile = await this.grammarFile(context.grammar);
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

  /** Removes the compiled grammar files. */
  async dispose(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    this.grammars.clear();
    if (dir) await rm(await dir, { recursive: true, force: true }).catch(() => undefined);
  }

  private grammarFile(grammar: SpeechGrammar): Promise<string> {
    const key = createHash('sha1').update(JSON.stringify(grammar)).digest('hex').slice(0, 16);
    let file = this.grammars.get(key);
    if (!file) {
      file = this.compile(grammar, key);
      file.catch(() => this.grammars.delete(key));
      this.grammars.set(key, file);
    }
    return file;
  }

  private async compile(grammar: SpeechGrammar, key: string): Promise<string> {
    const wanted = new Set([...grammar.keywords, ...grammar.leads, ...grammar.phrases, 'please'].flatMap(grammarWords));
    const known = await dictionaryWords(this.options.dictionary, wanted);
    this.dir ??= mkdtemp(join(tmpdir(), 'switchboard-jsgf-'));
    const path = join(await this.dir, `${key}.gram`);
    await writeFile(path, buildJsgf(grammar, (w) => known.has(w)));
    return path;
  }
}

/** The subset of `wanted` the dictionary holds (one pass over the file, nothing else kept). */
async function dictionaryWords(path: string, wanted: Set<string>): Promise<Set<string>> {
  const found = new Set<string>();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    const word = line.slice(0, line.indexOf(' ')).replace(/\(\d+\)$/, '');
    if (wanted.has(word)) found.add(word);
  }
  return found;
}
