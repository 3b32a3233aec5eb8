import type { FaqEntry } from './agent-config.js';

const STOPWORDS = new Set(['the', 'a', 'an', 'my', 'i', 'to', 'is', 'are', 'do', 'you', 'your', 'what', 'how', 'can', 'of', 'for', 'with', 'me', 'need', 'want', 'about', 'it', 'in', 'on', 'and']);

/** Lower-cased words of an utterance (at most 200), punctuation removed, apostrophes kept. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 200);
}

/** The FAQ entry sharing the most keywords with `words` (stopwords ignored), if any shares one. */
export function bestFaq(faq: FaqEntry[], words: string[]): FaqEntry | undefined {
  const content = new Set(words.filter((w) => !STOPWORDS.has(w)));
  let best: FaqEntry | undefined;
  let bestScore = 0;
  for (const entry of faq) {
    const score = entry.keywords.filter((k) => content.has(k)).length;
    if (score > bestScore) {
      best = entry;
      bestScore = score;
    }
  }
  return best;
}
