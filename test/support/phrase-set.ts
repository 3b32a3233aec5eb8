import { readFileSync } from 'node:fs';
import { LocalAgent, readAgentsFile, type AgentConfig } from '#libs/agents';
import { runProcess } from '#libs/media';

/** One caller request of the phrase set and the intent the built-in agent must reach. */
export interface Phrase {
  text: string;
  intent: string;
}

export interface PhraseVoice {
  voice: string;
  rate: number;
}

export interface PhraseSet {
  voices: PhraseVoice[];
  phrases: Phrase[];
}

/** The phrase set of the default agent (test/fixtures/caller-phrases.json). */
export function loadPhraseSet(file = 'test/fixtures/caller-phrases.json'): PhraseSet {
  return JSON.parse(readFileSync(file, 'utf8')) as PhraseSet;
}

export function defaultAgent(agentsFile = 'config/agents.json'): AgentConfig {
  const agent = readAgentsFile(agentsFile).find((a) => a.name === 'default');
  if (!agent) throw new Error(`no default agent in ${agentsFile}`);
  return agent;
}

/**
 * `text` said by an espeak-ng voice (`en-us+f3` style names: voice plus variant) at `rate` words
 * per minute, as Twilio carries it: 8 kHz mono μ-law, no dither (the same audio every run).
 */
export async function sayAs(text: string, { voice, rate }: PhraseVoice): Promise<Buffer> {
  const signal = new AbortController().signal;
  const wav = await runProcess('espeak-ng', ['-v', voice, '-s', String(rate), '--stdin', '--stdout'], { input: text, signal, timeoutMs: 10_000, maxOutputBytes: 8 << 20 });
  return runProcess('sox', ['-D', '-t', 'wav', '-', '-r', '8000', '-c', '1', '-e', 'mu-law', '-b', '8', '-t', 'raw', '-'], { input: wav, signal, timeoutMs: 10_000, maxOutputBytes: 4 << 20 });
}

/** What the built-in agent does with `text` as a caller's first request: its decision's intent. */
export async function intentOf(agent: AgentConfig, text: string, transferNumber = '+15005550100'): Promise<string> {
  const local = new LocalAgent(() => agent, transferNumber);
  const decision = await local.respond(
    { callSid: 'CA-phrase-set', agentName: agent.name, input: { kind: 'speech', text }, history: [], state: {} },
    new AbortController().signal,
  );
  return decision.intent ?? decision.action;
}
