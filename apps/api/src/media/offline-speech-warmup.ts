import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AgentRegistry, type AgentConfig } from '#libs/agents';
import { CachingSynthesizer, ResidentPocketsphinxRecognizer, SentenceChunker } from '#libs/media';
import { agentGrammar } from './agent-grammar.js';
import { SpeechProviders } from './speech-providers.js';

/**
 * What an agent says on every call, whatever the caller asks: greeting, department welcomes and
 * transfers, FAQ answers, the built-in agent's clarifications, goodbyes, and the pipeline's
 * apology. Cut into the sentences SpokenAnswer synthesises, so they are the cache's keys.
 */
export function fixedSentences(agent: AgentConfig): string[] {
  const options = agent.departments.map((d) => d.name).join(', ').replace(/, ([^,]*)$/, ' or $1');
  const texts = [
    agent.greeting,
    ...agent.departments.flatMap((d) => [d.welcome, `Connecting you to ${d.name} now.`]),
    ...agent.faq.map((f) => `${f.answer} Is there anything else I can help with?`),
    `Sorry, I didn't quite follow. Is your call about ${options}?`,
    "I'm sorry, I'm not sure I can help with that. Would you like me to put you through to a person?",
    'Please hold while I connect you to a member of our team.',
    `I'm sorry, no one is available to take your call right now. I can still help with ${options}.`,
    'Thank you for calling. Goodbye!',
    "I'm sorry, I couldn't look that up just now. Could you say that again?",
  ];
  const sentences = new Set<string>();
  for (const text of texts) {
    const chunker = new SentenceChunker();
    for (const s of chunker.push(text)) sentences.add(s);
    const rest = chunker.flush();
    if (rest) sentences.add(rest);
  }
  return [...sentences];
}

/**
 * At start-up, in the background: loads every agent's resident decoders (the model once per
 * process) and synthesises every agent's fixed sentences into the cache, so the first caller
 * neither waits for a model to load nor for its greeting to be synthesised.
 */
@Injectable()
export class OfflineSpeechWarmup implements OnApplicationBootstrap {
  private readonly logger = new Logger(OfflineSpeechWarmup.name);
  private readonly abort = new AbortController();
  /** Settles when warming is over (tests and benchmarks wait on it). */
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly providers: SpeechProviders,
    private readonly agents: AgentRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.done = this.warm().catch((err: Error) => this.logger.warn({ err: err.message }, 'speech warm-up failed; first calls will be slower'));
  }

  beforeApplicationShutdown(): void {
    this.abort.abort();
  }

  private async warm(): Promise<void> {
    const started = Date.now();
    const { recognizer, synthesizer } = this.providers;
    const agents = this.agents.names().map((name) => this.agents.get(name));
    if (recognizer instanceof ResidentPocketsphinxRecognizer) {
      await Promise.all(agents.map((a) => recognizer.warm(agentGrammar(a))));
    }
    let warmed = 0;
    if (synthesizer instanceof CachingSynthesizer) {
      for (const agent of agents) {
        if (this.abort.signal.aborted) return;
        const result = await synthesizer.warm(fixedSentences(agent), { language: agent.language, voice: agent.voice }, this.abort.signal);
        warmed += result.warmed;
      }
    }
    this.logger.log({ agents: agents.length, sentences: warmed, ms: Date.now() - started }, 'offline speech warmed');
  }
}
