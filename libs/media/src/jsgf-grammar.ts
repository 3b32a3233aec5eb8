import type { SpeechGrammar } from './speech.types.js';

/** One kind of request: `[lead] word [tail]`, e.g. "can i talk to" + "a person" + "please". */
export interface GrammarBranch {
  leads?: string[];
  words: string[];
  tails?: string[];
  /** A second word (and tail) of the slot may follow the first ("no thanks… bye", "on my account… i don't recognize"). */
  repeat?: boolean;
}

/**
 * A grammar with structure beyond `[lead] keyword`: words that may follow the keyword
 * ("charged twice"), or separate branches per kind of request, so that each slot only competes
 * with the words that fit it (a person after "can i talk to", a topic after "i'm calling about").
 * Recognisers that take a plain SpeechGrammar (cloud hints) simply use `keywords` and `phrases`.
 */
export interface CallerGrammar extends SpeechGrammar {
  tails?: string[];
  /** When present, the grammar is these branches and the phrases (keywords/leads only serve as hints). */
  branches?: GrammarBranch[];
  /** Words that may open any request ("hi", "yes"). */
  openers?: string[];
}

/** Every word a grammar may use (for the dictionary check). */
export function allGrammarText(grammar: CallerGrammar): string[] {
  return [
    ...grammar.keywords, ...grammar.leads, ...grammar.phrases, ...(grammar.tails ?? []), ...(grammar.openers ?? []),
    ...(grammar.branches ?? []).flatMap((b) => [...(b.leads ?? []), ...b.words, ...(b.tails ?? [])]), 'please',
  ];
}

/** Lower-case words a dictionary can hold: letters and apostrophes only. */
export function grammarWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z'\s]+/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

/**
 * A JSGF grammar from the agent's expected speech: `[lead] keyword [tail] [please]` or one of
 * the whole phrases. Open vocabulary recognition of 8 kHz phone audio is poor; a closed grammar
 * turns the recogniser into a robust intent spotter. Words the dictionary does not know are
 * left out (pocketsphinx refuses a grammar with unknown words).
 */
export function buildJsgf(grammar: CallerGrammar, known: (word: string) => boolean): string {
  const clean = (items: string[]) => {
    const out = new Set<string>();
    for (const item of items) {
      const words = grammarWords(item);
      if (words.length && words.every(known)) out.add(words.join(' '));
    }
    return [...out];
  };
  if (grammar.branches?.length) return buildBranches(grammar, clean);
  const keywords = clean(grammar.keywords);
  const leads = clean(grammar.leads);
  const tails = clean(grammar.tails ?? []);
  const phrases = clean(grammar.phrases);
  const rules: string[] = [];
  const alternatives: string[] = [];
  if (keywords.length) {
    rules.push(`<keyword> = ${keywords.join(' | ')};`);
    if (leads.length) rules.push(`<lead> = ${leads.join(' | ')};`);
    if (tails.length) rules.push(`<tail> = ${tails.join(' | ')};`);
    alternatives.push(`${leads.length ? '[<lead>] ' : ''}<keyword>${tails.length ? ' [<tail>]' : ''}${known('please') ? ' [please]' : ''}`);
  }
  if (phrases.length) {
    rules.push(`<phrase> = ${phrases.join(' | ')};`);
    alternatives.push('<phrase>');
  }
  if (!alternatives.length) throw new RangeError('grammar has no word the dictionary knows');
  return ['#JSGF V1.0;', 'grammar agent;', `public <utterance> = ${alternatives.join(' | ')};`, ...rules, ''].join('\n');
}

function buildBranches(grammar: CallerGrammar, clean: (items: string[]) => string[]): string {
  const rules: string[] = [];
  const alternatives: string[] = [];
  grammar.branches!.forEach((branch, i) => {
    const words = clean(branch.words);
    if (!words.length) return;
    const leads = clean(branch.leads ?? []);
    const tails = clean(branch.tails ?? []);
    rules.push(`<w${i}> = ${words.join(' | ')};`);
    if (leads.length) rules.push(`<l${i}> = ${leads.join(' | ')};`);
    if (tails.length) rules.push(`<t${i}> = ${tails.join(' | ')};`);
    alternatives.push(`${leads.length ? `[<l${i}>] ` : ''}<w${i}>${branch.repeat ? ` [<w${i}>]` : ''}${tails.length ? ` [<t${i}>]${branch.repeat ? ` [<t${i}>]` : ''}` : ''}`);
  });
  const phrases = clean(grammar.phrases);
  if (phrases.length) {
    rules.push(`<phrase> = ${phrases.join(' | ')};`);
    alternatives.push('<phrase>');
  }
  if (!alternatives.length) throw new RangeError('grammar has no word the dictionary knows');
  const openers = clean(grammar.openers ?? []);
  if (openers.length) rules.push(`<open> = ${openers.join(' | ')};`);
  const body = `${openers.length ? '[<open>] ' : ''}(${alternatives.join(' | ')})`;
  return ['#JSGF V1.0;', 'grammar agent;', `public <utterance> = ${body};`, ...rules, ''].join('\n');
}
