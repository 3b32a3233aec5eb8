import type { AgentConfig } from '#libs/agents';
import type { SpeechGrammar } from '#libs/media';

/** How callers open a request; combined with every topic word of the agent. */
const LEADS = [
  'i need help with', 'i need help with my', 'i have a question about', 'i have a question about my', 'i want to talk about',
  'i want to talk about my', "i'm calling about", "i'm calling about my", 'can i talk to', 'can i talk to a', 'help with my',
];
const GENERIC = ['yes', 'no', 'yes please', 'no thanks', 'goodbye', 'thank you goodbye', 'representative', 'a real person', 'person', 'human', 'operator'];
/** Answers to the built-in agent's follow-up questions (when does it happen, anything else, a callback). */
const ANSWERS = [
  'all the time', 'every evening', 'every morning', 'every day', 'at night', 'in the evening', 'in the morning', 'since this morning',
  'since yesterday', 'sometimes', 'it keeps dropping', 'it keeps dropping every evening', "it doesn't work", 'no that is all', "no that's all",
  'yes please call me back', 'the basic plan', 'the premium plan', 'the family plan',
];

/** The recogniser's grammar for one agent: its departments, their keywords, and its FAQ. */
export function agentGrammar(agent: AgentConfig): SpeechGrammar {
  const keywords = new Set<string>(GENERIC);
  for (const d of agent.departments) {
    keywords.add(d.name);
    for (const k of d.keywords) keywords.add(k);
  }
  for (const f of agent.faq) for (const k of f.keywords) keywords.add(k);
  return {
    id: `agent:${agent.name}`,
    keywords: [...keywords],
    leads: LEADS,
    phrases: [...agent.faq.map((f) => f.question), ...ANSWERS],
  };
}
