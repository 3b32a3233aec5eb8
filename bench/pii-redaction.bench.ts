/**
 * npx tsx --conditions=development bench/pii-redaction.bench.ts — cost of PII redaction per
 * caller turn (and per log string), against a same-run baseline: JSON.stringify of the same text
 * (what every turn already costs on its way to the queue).
 */
import { redactPii } from '#libs/redaction';
import { machine } from './support.js';

const SAMPLES: [string, string][] = [
  ['plain turn', 'I need help with my bill'],
  ['faq question', 'What are your opening hours?'],
  ['spoken card + e-mail', 'my card is four one one one, one one one one, one one one one, one one one one and my email is jane dot doe at example dot com'],
  ['written card + phone', 'card 4111 1111 1111 1111, call me back at 555-123-4567'],
  ['log string (URL)', '/twilio/gather?step=3'],
];
const N = Number(process.env.BENCH_N ?? 50_000);

function time(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn();
  const t = performance.now();
  for (let i = 0; i < N; i++) fn();
  return ((performance.now() - t) / N) * 1000;
}

process.stdout.write(`\n${new Date().toISOString()} · ${machine()} · ${N} iterations per row\n\n| text | redactPii µs | baseline JSON.stringify µs |\n|---|---:|---:|\n`);
for (const [name, text] of SAMPLES) {
  process.stdout.write(`| ${name} | ${time(() => redactPii(text)).toFixed(1)} | ${time(() => JSON.stringify({ text })).toFixed(2)} |\n`);
}
