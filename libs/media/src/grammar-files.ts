import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { allGrammarText, buildJsgf, grammarWords } from './jsgf-grammar.js';
import type { SpeechGrammar } from './speech.types.js';

/** Stable short key of a grammar's content (two agents with the same words share one file). */
export function grammarKey(grammar: SpeechGrammar): string {
  return createHash('sha1').update(JSON.stringify(grammar)).digest('hex').slice(0, 16);
}

/**
 * Compiles grammars to JSGF files in a private temporary folder, once per distinct grammar.
 * Words the pronunciation dictionary lacks are dropped (pocketsphinx refuses such a grammar).
 */
export class GrammarFiles {
  private readonly files = new Map<string, Promise<string>>();
  private dir?: Promise<string>;

  constructor(private readonly dictionary: string) {}

  /** The private folder (also used for utterance files by the recognisers). */
  folder(): Promise<string> {
    this.dir ??= mkdtemp(join(tmpdir(), 'switchboard-jsgf-'));
    return this.dir;
  }

  file(grammar: SpeechGrammar): Promise<string> {
    const key = grammarKey(grammar);
    let file = this.files.get(key);
    if (!file) {
      file = this.compile(grammar, key);
      file.catch(() => this.files.delete(key));
      this.files.set(key, file);
    }
    return file;
  }

  /** Removes the folder and everything in it. */
  async dispose(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    this.files.clear();
    if (dir) await rm(await dir, { recursive: true, force: true }).catch(() => undefined);
  }

  private async compile(grammar: SpeechGrammar, key: string): Promise<string> {
    const wanted = new Set(allGrammarText(grammar).flatMap(grammarWords));
    const known = await dictionaryWords(this.dictionary, wanted);
    const path = join(await this.folder(), `${key}.gram`);
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
