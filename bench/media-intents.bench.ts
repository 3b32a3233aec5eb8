/**
 * npm run bench:media:intents — intent accuracy of the offline recogniser on the phrase set
 * (test/fixtures/caller-phrases.json: every phrase said by every voice, 8 kHz μ-law), and the
 * decoder settings sweep behind DECODER_SETTINGS: accuracy against decoder CPU per utterance.
 * Baseline in the same run: main's per-utterance pocketsphinx_continuous with unbounded beams
 * and main's grammar (BENCH_BASELINE_GRAMMAR=0 skips it). Not a timed test.
 *
 * Intent = what the built-in agent (LocalAgent) does with the recognised text as a first turn.
 */
import { readFileSync } from 'node:fs';
import { DECODER_SETTINGS, PocketsphinxRecognizer, ResidentPocketsphinxRecognizer, type SpeechGrammar, type SpeechRecognizer } from '#libs/media';
import { agentGrammar } from '../apps/api/src/media/agent-grammar.js';
import { defaultAgent, intentOf, loadPhraseSet, sayAs } from '../test/support/phrase-set.js';
import { machine } from './support.js';

const DICT = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';
const UNBOUNDED = ['-beam', '1e-100', '-pbeam', '1e-100', '-wbeam', '1e-80', '-maxhmmpf', '-1', '-remove_noise', 'no'];
const SWEEP: Array<[string, readonly string[]]> = [
  ['unbounded (main: 1e-100/1e-100/1e-80, maxhmmpf -1)', UNBOUNDED],
  ['unbounded, -lw 10', [...UNBOUNDED, '-lw', '10']],
  ['pocketsphinx defaults (1e-48/1e-48/7e-29, maxhmmpf 30000, lw 6.5, noise removal)', []],
  ['defaults with -lw 10, no noise removal', ['-lw', '10', '-remove_noise', 'no']],
  ['chosen: ' + DECODER_SETTINGS.join(' '), DECODER_SETTINGS],
  ['1e-40/1e-40/1e-30, maxhmmpf 1500, lw 10', ['-beam', '1e-40', '-pbeam', '1e-40', '-wbeam', '1e-30', '-maxhmmpf', '1500', '-lw', '10', '-remove_noise', 'no']],
  ['1e-30/1e-30/1e-20, maxhmmpf 800, lw 10', ['-beam', '1e-30', '-pbeam', '1e-30', '-wbeam', '1e-20', '-maxhmmpf', '800', '-lw', '10', '-remove_noise', 'no']],
];
if (process.env.BENCH_DECODER) SWEEP.push(...process.env.BENCH_DECODER.split(';').map((d): [string, string[]] => [d, d.split(' ').filter(Boolean)]));
const ONLY = process.env.BENCH_SETTINGS ? new Set(process.env.BENCH_SETTINGS.split(',').map(Number)) : undefined;

/** CPU seconds a process has used (utime + stime from /proc, 100 ticks per second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Utterance {
  text: string;
  voice: string;
  intent: string;
  audio: Buffer;
}

async function measure(label: string, stt: SpeechRecognizer, grammar: SpeechGrammar, utterances: Utterance[], cpu: () => number) {
  const agent = defaultAgent();
  const signal = new AbortController().signal;
  const misses: string[] = [];
  let right = 0;
  const wall: number[] = [];
  const cpuBefore = cpu();
  for (const u of utterances) {
    const t0 = performance.now();
    const { text } = await stt.recognize(u.audio, { language: 'en-US', grammar }, signal).catch((err: Error) => ({ text: `<${err.message}>` }));
    wall.push(performance.now() - t0);
    const intent = await intentOf(agent, text);
    if (intent === u.intent) right++;
    else misses.push(`"${u.text}" (${u.voice}) → "${text}" = ${intent}, want ${u.intent}`);
  }
  const cpuS = cpu() - cpuBefore;
  wall.sort((a, b) => a - b);
  return { label, accuracy: right / utterances.length, right, n: utterances.length, cpuMs: (cpuS * 1000) / utterances.length, wallP50: wall[Math.floor(wall.length / 2)], misses };
}

async function main(): Promise<void> {
  const set = loadPhraseSet();
  const agent = defaultAgent();
  const utterances: Utterance[] = [];
  for (const voice of set.voices) {
    for (const p of set.phrases) utterances.push({ text: p.text, voice: `${voice.voice}@${voice.rate}`, intent: p.intent, audio: await sayAs(p.text, voice) });
  }
  for (const p of set.phrases) {
    const truth = await intentOf(agent, p.text);
    if (truth !== p.intent) throw new Error(`fixture: the agent maps "${p.text}" to ${truth}, not ${p.intent}`);
  }
  const grammar = agentGrammar(agent);
  const rows: Awaited<ReturnType<typeof measure>>[] = [];

  if (process.env.BENCH_BASELINE !== '0') {
    // main: a process per utterance (model reloaded each time), unbounded beams, main's grammar.
    const baselineGrammar: SpeechGrammar = JSON.parse(readFileSync('bench/fixtures/main-grammar.json', 'utf8')) as SpeechGrammar;
    const perUtterance = new PocketsphinxRecognizer({ binary: 'pocketsphinx_continuous', dictionary: DICT, timeoutMs: 20_000 });
    rows.push(await measure('baseline: main (process per utterance, unbounded beams, main grammar)', perUtterance, baselineGrammar, utterances, () => NaN));
    await perUtterance.dispose();
    const residentMainGrammar = new ResidentPocketsphinxRecognizer({ binary: 'pocketsphinx_batch', dictionary: DICT, poolSize: 1, maxQueue: 4, timeoutMs: 20_000 });
    await residentMainGrammar.warm(baselineGrammar);
    const pid = (await residentMainGrammar.stats()).pids[0];
    rows.push(await measure('resident, chosen settings, main grammar', residentMainGrammar, baselineGrammar, utterances, () => cpuSeconds(pid)));
    await residentMainGrammar.dispose();
  }
  for (const [i, [label, decoder]] of SWEEP.entries()) {
    if (ONLY && !ONLY.has(i)) continue;
    const stt = new ResidentPocketsphinxRecognizer({ binary: 'pocketsphinx_batch', dictionary: DICT, poolSize: 1, maxQueue: 4, timeoutMs: 20_000, decoder });
    await stt.warm(grammar);
    const pid = (await stt.stats()).pids[0];
    rows.push(await measure(`resident, ${label}`, stt, grammar, utterances, () => cpuSeconds(pid)));
    await stt.dispose();
    process.stderr.write(`${rows.at(-1)!.label}: ${(rows.at(-1)!.accuracy * 100).toFixed(1)} %\n`);
  }

  process.stdout.write(`\nMachine: ${machine()} (shared, busy). Date: ${new Date().toISOString()}. ${set.phrases.length} phrases × ${set.voices.length} voices = ${utterances.length} utterances.\n\n`);
  process.stdout.write('| recogniser | intent accuracy | decoder CPU ms / utterance | wall p50 ms / utterance |\n|---|---:|---:|---:|\n');
  for (const r of rows) process.stdout.write(`| ${r.label} | **${(r.accuracy * 100).toFixed(1)} %** (${r.right}/${r.n}) | ${Number.isFinite(r.cpuMs) ? r.cpuMs.toFixed(0) : '–'} | ${r.wallP50.toFixed(0)} |\n`);
  if (process.env.BENCH_VERBOSE) for (const r of rows) process.stdout.write(`\n${r.label}\n${r.misses.map((m) => `  ${m}`).join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
