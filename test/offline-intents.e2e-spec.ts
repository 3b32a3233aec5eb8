import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ResidentPocketsphinxRecognizer } from '#libs/media';
import { agentGrammar } from '../apps/api/src/media/agent-grammar.js';
import { defaultAgent, intentOf, loadPhraseSet, sayAs, type PhraseVoice } from './support/phrase-set.js';

/**
 * The offline pipeline's recogniser against the phrase set: real espeak-ng voices at phone
 * quality, the real resident pocketsphinx with the default agent's grammar, and the built-in
 * agent deciding what to do with what was heard. Intents are asserted, not words.
 * (The full set, every voice, with the decoder sweep: npm run bench:media:intents.)
 */
describe('offline intent accuracy on the phrase set', () => {
  const set = loadPhraseSet();
  const agent = defaultAgent();
  const stt = new ResidentPocketsphinxRecognizer({
    binary: 'pocketsphinx_batch', dictionary: '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict', poolSize: 2, maxQueue: 64, timeoutMs: 30_000,
  });
  const grammar = agentGrammar(agent);
  // Two of the set's voices (a US voice at the default rate, a slow British one): a subset that keeps the suite short.
  const voices: PhraseVoice[] = [set.voices[0], set.voices[2]];

  beforeAll(() => stt.warm(grammar), 30_000);
  afterAll(() => stt.dispose());

  it('has at least 25 realistic requests whose text the built-in agent routes to the expected intent', async () => {
    expect(set.phrases.length).toBeGreaterThanOrEqual(25);
    for (const p of set.phrases) expect(`${p.text} → ${await intentOf(agent, p.text)}`).toBe(`${p.text} → ${p.intent}`);
  });

  it('routes at least 85 % of the spoken requests to the right intent, and every intent mostly right', async () => {
    const outcomes: Array<{ intent: string; got: string; heard: string }> = [];
    for (const voice of voices) {
      const audio = await Promise.all(set.phrases.map((p) => sayAs(p.text, voice)));
      const heard = await Promise.all(audio.map((a) => stt.recognize(a, { language: 'en-US', grammar }, new AbortController().signal)));
      for (const [i, p] of set.phrases.entries()) outcomes.push({ intent: p.intent, got: await intentOf(agent, heard[i].text), heard: heard[i].text });
    }
    const right = outcomes.filter((o) => o.got === o.intent).length;
    const accuracy = right / outcomes.length;
    if (accuracy < 0.85) process.stderr.write(`misrouted:\n${outcomes.filter((o) => o.got !== o.intent).map((o) => `  ${o.intent}: heard "${o.heard}" → ${o.got}`).join('\n')}\n`);
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
    for (const intent of new Set(set.phrases.map((p) => p.intent))) {
      const mine = outcomes.filter((o) => o.intent === intent);
      expect(mine.filter((o) => o.got === intent).length / mine.length).toBeGreaterThanOrEqual(0.5);
    }
  }, 120_000);
});
