import type { AgentConfig } from '#libs/agents';
import type { CallerGrammar } from '#libs/media';

/*
 * The recogniser's grammar: pocketsphinx can only return a path of it, so a request it cannot
 * express comes back as the nearest wrong topic, and every word of a slot competes with every
 * other. So each kind of request has its own branch (`[lead] word [tail]`): after "can i talk to"
 * only a person fits, after "i'm calling about" only a topic of the agent. Leads and tails are
 * generic English carriers, not the phrase set's sentences; tuned on the phrase set
 * (test/fixtures/caller-phrases.json, `npm run bench:media:intents`).
 */

/** How callers open a request about a topic of the agent (a department or FAQ keyword). */
const TOPIC_LEADS = [
  'i need help with', 'i need help with my', 'i have a question about', 'i have a question about my', 'i have a problem with my',
  'i want to talk about', 'i want to talk about my', "i'm calling about", "i'm calling about my", "i'm calling about a",
  "i'm calling because", "i'm calling because my", 'i was', 'i got', "i didn't get my", "i haven't got my", 'i want to', 'i want a',
  'i want to pay my', "i'd like to", "i'd like a", "i'd like to pay my", 'i need to', 'i need a', 'i need', 'i have a', 'i have an',
  'i keep getting an', 'i keep getting a', "i'm getting an", "there's a", 'there is a', 'is there an', 'is there a', 'my', 'the',
  'can you help me with my', 'can you help me fix my', 'help with my', 'do you have any', 'what are your', 'what is your',
  "i'd like to buy a", 'i want to buy a', "i'd like to buy a new", 'i want to buy a new', 'i want a new', "i'd like a new", 'a new',
  'i need help with', 'help with', 'can you help me with', 'i want to pay', 'i want to buy', 'i want to upgrade my', "i'd like to upgrade my", 'it', "it's", 'about my', 'about',
];

/** What may follow a topic word ("charged twice", "internet is broken", "offers for new customers"). */
const TOPIC_TAILS = [
  'twice', 'again', 'today', 'please', 'this month', 'is broken', 'is not working', "isn't working", "doesn't work", 'is down',
  'keeps dropping', 'is too high', 'on my account', "i don't recognize", "i don't understand", 'message', 'in my area', 'for new customers',
  'up', 'service', 'support', 'department',
];

/** Asking for a person. */
const PERSON_LEADS = [
  'can i talk to', 'can i speak to', "i'd like to speak to", "i'd like to talk to", 'i want to speak to', 'i want to talk to',
  'i need to speak to', 'i need to talk to', 'put me through to', 'let me talk to', 'let me speak to', 'connect me to',
  'transfer me to', 'i want', 'i need', 'give me', 'get me',
];
const PERSON_WORDS = [
  'a person', 'a real person', 'person', 'someone', 'somebody', 'an agent', 'agent', 'a representative', 'representative',
  'an operator', 'operator', 'a human', 'human', 'a human being', 'real people',
];

/** Ending the call, and short answers. */
const CLOSING = [
  'goodbye', 'bye', 'bye bye', "that's all", "that's all goodbye", "that's all thank you", "that's all thanks", 'no thanks', 'no thanks bye',
  'no thank you', 'no thank you goodbye', 'thank you goodbye', 'thanks bye', "i'm done", 'nothing else', 'yes', 'yes please', 'yeah', 'no',
  'okay', 'thank you',
];

/** Asking an FAQ question in other words than the agent's ("when do you close today"). */
const FAQ_LEADS = [
  'what are your', 'what is your', 'when do you', 'when are you', 'where is your', 'where are you', 'where is the', 'what time do you',
  'how do i', 'how can i', 'i forgot my', "i can't", 'i need to', 'are you', 'what are the', 'can i',
];
const FAQ_TAILS = ['today', 'tomorrow', 'on saturday', 'at the weekend', 'my password', 'in', 'please', 'hours', 'address'];

/**
 * Short, common keywords that are also carrier words ("a new plan", "pay my bill"): as a topic
 * slot of their own they absorb whatever the model hears worst ("i was charged" came back as
 * "i was new"), so they only occur inside leads.
 */
const CARRIER_KEYWORDS = new Set(['new', 'pay', 'buy', 'help']);

const OPENERS = ['hi', 'hello', 'yes', 'hi there', 'hello there', 'good morning', 'um'];

/** Answers to the built-in agent's follow-up questions (when does it happen, anything else, a callback). */
const ANSWERS = [
  'all the time', 'every evening', 'every morning', 'every day', 'at night', 'in the evening', 'in the morning', 'since this morning',
  'since yesterday', 'sometimes', 'it keeps dropping', 'it keeps dropping every evening', "it doesn't work", 'no that is all', "no that's all",
  'yes please call me back', 'the basic plan', 'the premium plan', 'the family plan',
];

/** The recogniser's grammar for one agent: its departments, their keywords, and its FAQ. */
export function agentGrammar(agent: AgentConfig): CallerGrammar {
  const topics = new Set<string>();
  for (const d of agent.departments) {
    topics.add(d.name);
    for (const k of d.keywords) if (!CARRIER_KEYWORDS.has(k)) topics.add(k);
  }
  const faqWords = new Set(agent.faq.flatMap((f) => f.keywords));
  return {
    id: `agent:${agent.name}`,
    // Hints for recognisers without a grammar (and the words a cloud recogniser should favour).
    keywords: [...topics, ...faqWords, ...PERSON_WORDS, ...CLOSING],
    leads: [...TOPIC_LEADS, ...PERSON_LEADS],
    phrases: [...agent.faq.map((f) => f.question), ...ANSWERS],
    openers: OPENERS,
    branches: [
      { leads: TOPIC_LEADS, words: [...topics], tails: TOPIC_TAILS },
      { leads: FAQ_LEADS, words: [...faqWords], tails: FAQ_TAILS },
      { leads: PERSON_LEADS, words: PERSON_WORDS, tails: ['please', 'now', 'please thank you'] },
      { words: CLOSING, repeat: true },
    ],
  };
}
