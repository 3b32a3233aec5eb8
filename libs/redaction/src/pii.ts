/**
 * Redaction of personal data in what callers say: card numbers (Luhn-checked), US social
 * security numbers, e-mail addresses and phone numbers, written ("4111 1111 1111 1111",
 * "jane.doe@example.com") or as a speech recogniser writes them down ("four one one one, one one
 * one one …", "jane dot doe at example dot com"). Pure functions: no configuration, no I/O.
 */

export const PII_TYPES = ['card', 'ssn', 'email', 'phone'] as const;
export type PiiType = (typeof PII_TYPES)[number];

export interface Redaction {
  /** The text with each finding replaced by its placeholder (`[card]`, `[ssn]`, `[email]`, `[phone]`). */
  text: string;
  /** Types found, in order of first appearance, each once. */
  found: PiiType[];
}

const ALL: ReadonlySet<PiiType> = new Set(PII_TYPES);

const TLD = '(?:com|org|net|edu|gov|mil|info|biz|io|co|us|uk|ca|de|fr|es|it|nl|au|me|app|dev|ai|[a-z]{2})';
const SPOKEN_DOT = '\\s+(?:dot|period|point)\\s+';
const SPOKEN_JOIN = '\\s+(?:dot|period|underscore|dash|hyphen|plus)\\s+';
const WORD = '[a-z0-9][a-z0-9_%+-]*';
// Written: local@domain.tld. Spoken: "jane dot doe at example dot com" (any mix of the two).
const EMAIL = new RegExp(
  `\\b${WORD}(?:(?:\\.|${SPOKEN_JOIN})${WORD})*(?:\\s*@\\s*|\\s+at\\s+)${WORD}(?:(?:\\.|${SPOKEN_DOT})${WORD})*(?:\\.|${SPOKEN_DOT})${TLD}\\b`,
  'gi',
);

const DIGIT_WORDS: Record<string, string> = {
  zero: '0', oh: '0', o: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
};
// A digit item: written digits (optionally after "+"), a digit word, or "double/triple <digit>".
// Digits glued to letters ("CA3f12…", "5th") are identifiers or ordinals, not spoken numbers.
const ITEM = /(?<![A-Za-z0-9_])\+?\d+(?![A-Za-z_])|\b(?:(?:double|triple)\s+)?(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine)\b/gi;
// What may sit between the items of one spoken or written number.
const GAP = /^[\s,\-–—()/]*$/;
const SSN_CONTEXT = /\b(?:social|ssn|s\s?s\s?n|security number)\b/i;
const MONEY_BEFORE = /[$€£]\s*$/;
const MONEY_AFTER = /^\s*(?:dollars?|bucks|cents?|euros?|pounds?|usd|%|percent)\b/i;

interface Item {
  start: number;
  end: number;
  digits: string;
  plus: boolean;
}

/** Luhn checksum (ISO/IEC 7812), as every payment card number satisfies. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

function itemDigits(token: string): string {
  const t = token.toLowerCase().replace(/^\+/, '');
  if (/^\d+$/.test(t)) return t;
  const m = /^(double|triple)\s+(\w+)$/.exec(t);
  if (m) return DIGIT_WORDS[m[2]].repeat(m[1] === 'double' ? 2 : 3);
  return DIGIT_WORDS[t] ?? '';
}

/** Runs of digit items separated only by spaces, commas, dashes or brackets. */
function digitRuns(text: string): Item[][] {
  const runs: Item[][] = [];
  let run: Item[] = [];
  for (const m of text.matchAll(ITEM)) {
    const item = { start: m.index, end: m.index + m[0].length, digits: itemDigits(m[0]), plus: m[0].startsWith('+') };
    const last = run.at(-1);
    if (last && GAP.test(text.slice(last.end, item.start)) && !item.plus) run.push(item);
    else {
      if (run.length) runs.push(run);
      run = [item];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

/** A lone "o"/"oh" is a word, not a zero: a run may not start or end with one. */
function trimWordZeros(run: Item[], text: string): Item[] {
  const isOh = (i: Item) => /^o(h)?$/i.test(text.slice(i.start, i.end));
  let a = 0;
  let b = run.length;
  while (a < b && isOh(run[a])) a++;
  while (b > a && isOh(run[b - 1])) b--;
  return run.slice(a, b);
}

type Span = { start: number; end: number; type: PiiType };

function classify(run: Item[], text: string, types: ReadonlySet<PiiType>): Span | undefined {
  const digits = run.map((i) => i.digits).join('');
  const start = run[0].start;
  const end = run.at(-1)!.end;
  if (MONEY_BEFORE.test(text.slice(Math.max(0, start - 2), start)) || MONEY_AFTER.test(text.slice(end, end + 10))) return undefined;
  const n = digits.length;
  if (types.has('card') && n >= 13 && n <= 19 && luhnValid(digits)) return { start, end, type: 'card' };
  const groups = groupLengths(run, text);
  if (types.has('ssn') && n === 9) {
    const grouped = groups === '3-2-4' && !/^(000|666|9)/.test(digits);
    if (grouped || SSN_CONTEXT.test(text.slice(Math.max(0, start - 60), start))) return { start, end, type: 'ssn' };
  }
  if (types.has('phone')) {
    if (run[0].plus && n >= 8 && n <= 15) return { start, end, type: 'phone' };
    if (n === 10 || (n === 11 && digits.startsWith('1'))) return { start, end, type: 'phone' };
    // A local number said as 3 + 4 digits ("555-0123", "five five five, oh one two three").
    if (n === 7 && groups === '3-4') return { start, end, type: 'phone' };
  }
  return undefined;
}

/**
 * How the speaker grouped the digits, e.g. "3-2-4": a comma or dash between items ends a group,
 * and so does a space between written digit groups; spoken digits separated by spaces stay together.
 */
function groupLengths(run: Item[], text: string): string {
  const starts = groupStarts(run, text);
  return starts.map((s, g) => run.slice(s, starts[g + 1] ?? run.length).reduce((n, i) => n + i.digits.length, 0)).join('-');
}

/** Indices of the items that begin a group (see groupLengths). */
function groupStarts(run: Item[], text: string): number[] {
  const starts = [0];
  for (let i = 1; i < run.length; i++) {
    const gap = text.slice(run[i - 1].end, run[i].start);
    const written = /^\d/.test(text.slice(run[i].start, run[i].end)) && /\d$/.test(text.slice(run[i - 1].start, run[i - 1].end));
    if (/[,\-–—()/]/.test(gap) || written) starts.push(i);
  }
  return starts;
}

/** Finds PII spans among digit runs; a run that is no PII as a whole may hold a card inside it. */
function numberSpans(text: string, types: ReadonlySet<PiiType>): Span[] {
  const spans: Span[] = [];
  for (const raw of digitRuns(text)) {
    const run = trimWordZeros(raw, text);
    if (!run.length) continue;
    const whole = classify(run, text, types);
    if (whole) {
      spans.push(whole);
      continue;
    }
    // "option 1 4111 1111 1111 1111": a Luhn-valid card made of whole groups inside the run. Only
    // group boundaries count, so a spoken order number failing Luhn never yields a "card" by
    // dropping a digit or two from its ends.
    if (!types.has('card') || run.length > 40) continue;
    const bounds = [...groupStarts(run, text), run.length];
    search: for (let a = 0; a < bounds.length - 1; a++) {
      for (let b = bounds.length - 1; b > a; b--) {
        const items = run.slice(bounds[a], bounds[b]);
        const digits = items.map((i) => i.digits).join('');
        if (digits.length < 13) break;
        if (digits.length <= 19 && luhnValid(digits)) {
          spans.push({ start: items[0].start, end: items.at(-1)!.end, type: 'card' });
          break search;
        }
      }
    }
  }
  return spans;
}

/**
 * Replaces the personal data of `types` (default: all) in `text` by typed placeholders.
 * Idempotent: a redacted text comes back unchanged. Near-misses stay: numbers failing Luhn
 * (order numbers), times, prices and amounts, short numbers.
 */
export function redactPii(text: string, types: ReadonlySet<PiiType> = ALL): Redaction {
  if (!text || types.size === 0) return { text, found: [] };
  const found: PiiType[] = [];
  const note = (type: PiiType) => {
    if (!found.includes(type)) found.push(type);
  };
  let out = text;
  // Most texts hold no e-mail address at all: skip the expensive pattern unless one could be there.
  if (types.has('email') && /@|\sat\s/i.test(out)) {
    out = out.replace(EMAIL, () => {
      note('email');
      return '[email]';
    });
  }
  if (/\d|zero|oh|one|two|three|four|five|six|seven|eight|nine/i.test(out)) {
    const spans = numberSpans(out, types);
    // Found left to right; replace right to left so earlier offsets stay valid.
    for (const span of spans) note(span.type);
    for (const span of spans.reverse()) {
      const open = out[span.start - 1] === '(' && out.slice(span.start, span.end).includes(')') ? 1 : 0;
      out = `${out.slice(0, span.start - open)}[${span.type}]${out.slice(span.end)}`;
    }
  }
  return { text: out, found };
}

/** Parses `REDACT_PII_TYPES` ("card,ssn,email,phone"); unknown names are an error. */
export function parsePiiTypes(list: string): Set<PiiType> {
  const names = list.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = names.filter((n) => !ALL.has(n as PiiType));
  if (bad.length) throw new Error(`unknown PII type(s): ${bad.join(', ')} (known: ${PII_TYPES.join(', ')})`);
  return new Set(names as PiiType[]);
}
