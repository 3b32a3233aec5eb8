import type { SpeechGrammar } from './speech.types.js';

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
 * A JSGF grammar from the agent's expected speech: `[lead] keyword [please]` or one of the
 * whole phrases. Open vocabulary recognition of 8 kHz phone audio is poor; a closed grammar
 * turns the recogniser into a robust intent spotter. Words the dictionary does not know are
 * left out (pocketsphinx refuses a grammar with unknown words).
 */
export function buildJsgf(grammar: SpeechGrammar, known: (word: string) => boolean): string {
  const clean = (items: string[]) => {
    const out = new Set<string>();
    for (const item of items) {
      const words = grammarWords(item);
      if (words.length && words.every(known)) out.add(words.join(' '));
    }
    return [...out];
  };
  const keywords = clean(grammar.keywords);
  const leads = clean(grammar.leads);
  const phrases = clean(grammar.phrases);
  const rules: string[] = [];
  const alternatives: string[] = [];
  if (keywords.length) {
    rules.push(`<keyword> = ${keywords.join(' | ')};`);
    if (leads.length) rules.push(`<lead> = ${leads.join(' | ')};`);
    alternatives.push(`${leads.length ? '[<lead>] ' : ''}<keyword>${known('please') ? ' [please]' : ''}`);
  }
  if (phrases.length) {
    rules.push(`<phrase> = ${phrases.join(' | ')};`);
    alternatives.push('<phrase>');
  }
  if (!alternatives.length) throw new RangeError('grammar has no word the dictionary knows');
  return ['#JSGF V1.0;', 'grammar agent;', `public <utterance> = ${alternatives.join(' | ')};`, ...rules, ''].join('\n');
}
