import type { AgentConfig, DepartmentConfig } from './agent-config.js';
import type { AgentDecision, AgentProvider, AgentTurnRequest, TokenSink } from './agent.types.js';
import { bestFaq, tokenize } from './faq-search.js';

export { tokenize } from './faq-search.js';

const GOODBYE = /\b(good ?bye|bye|that'?s all|that is all|hang up|nothing else|no thanks?|i'?m done)\b/;
const HUMAN = /\b(human|person|people|someone|somebody|agent|representative|operator|real)\b/;
const YES = /^(yes|yeah|yep|sure|please|ok|okay|yes please|that'?d be great|correct)\b/;
const NEGATORS = new Set(['not', "don't", 'dont', 'never', 'without']);

interface Mention {
  kind: 'department' | 'human';
  department?: DepartmentConfig;
  index: number;
}

/**
 * The embedded receptionist: deterministic, offline, a few milliseconds per turn.
 * Recognises routing intents (with corrections such as "billing… wait, no, sales"),
 * answers the agent's FAQ, asks a clarifying question when unsure, and offers a person.
 */
export class LocalAgent implements AgentProvider {
  readonly name = 'local';

  constructor(
    private readonly agents: (name: string) => AgentConfig,
    private readonly fallbackTransferNumber?: string,
  ) {}

  async respond(request: AgentTurnRequest, signal: AbortSignal, onToken?: TokenSink): Promise<AgentDecision> {
    signal.throwIfAborted();
    const decision = this.decide(request);
    // The whole answer is known at once: stream it sentence by sentence like a model would.
    if (onToken) for (const sentence of decision.say.match(/[^.!?]+[.!?]*\s*/g) ?? [decision.say]) onToken(sentence);
    return decision;
  }

  private decide(request: AgentTurnRequest): AgentDecision {
    const agent = this.agents(request.agentName);
    // A secure step lasts one turn: whatever the caller does next ends it.
    const state = { ...request.state, secure: undefined };
    const words = tokenize(request.input.text);
    const text = words.join(' ');
    const transferTo = agent.transferNumber ?? this.fallbackTransferNumber;

    if (request.input.kind === 'dtmf' && request.state.secure) {
      // The digits never reach an agent (see AgentState.secure); a payment system would take them.
      return { say: "Thank you, I've got that. Is there anything else I can help with?", action: 'say', intent: 'secure_input', state };
    }
    if (request.input.kind === 'dtmf') return this.onDigit(agent, request.input.text, state, transferTo);

    if (state.offeredHuman && YES.test(text)) return this.toHuman(state, transferTo);

    const mention = lastMention(agent, words);
    if (mention?.kind === 'human') return this.toHuman(state, transferTo);
    if (mention?.department && mention.department.name !== state.department) {
      return this.route(mention.department, state);
    }

    const faq = bestFaq(agent.faq, words);
    if (faq) {
      return {
        say: `${faq.answer} Is there anything else I can help with?`,
        action: 'say',
        intent: 'faq',
        state: { ...state, unclear: 0, offeredHuman: false },
        tools: agent.tools.includes('lookup_faq')
          ? [{ name: 'lookup_faq', args: { question: faq.question }, result: faq.answer }]
          : undefined,
      };
    }

    if (GOODBYE.test(text)) {
      return {
        say: 'Thank you for calling. Goodbye!',
        action: 'hangup',
        intent: 'goodbye',
        state,
        tools: agent.tools.includes('end_call') ? [{ name: 'end_call', args: { reason: 'caller said goodbye' } }] : undefined,
      };
    }

    if (mention?.department) {
      // The caller is already there and repeats the topic: acknowledge and keep listening.
      return {
        say: `I've noted that you're calling about ${mention.department.description}. ${mention.department.welcome}`,
        action: 'say',
        intent: mention.department.name,
        state: { ...state, unclear: 0 },
      };
    }

    const unclear = (state.unclear ?? 0) + 1;
    const options = agent.departments.map((d) => d.name).join(', ').replace(/, ([^,]*)$/, ' or $1');
    if (unclear >= 2 && transferTo) {
      return {
        say: "I'm sorry, I'm not sure I can help with that. Would you like me to put you through to a person?",
        action: 'say',
        intent: 'unclear',
        state: { ...state, unclear, offeredHuman: true },
      };
    }
    return {
      say: state.department
        ? `Sorry, I didn't quite follow. Could you tell me a little more about your ${state.department} question?`
        : `Sorry, I didn't quite follow. Is your call about ${options}?`,
      action: 'say',
      intent: 'unclear',
      state: { ...state, unclear },
    };
  }

  private onDigit(agent: AgentConfig, digits: string, state: AgentDecision['state'], transferTo?: string): AgentDecision {
    if (digits === '0') return this.toHuman(state, transferTo);
    const department = agent.departments.find((d) => d.digit === digits);
    if (department) return this.route(department, state);
    const menu = agent.departments.filter((d) => d.digit).map((d) => `press ${d.digit} for ${d.name}`).join(', ');
    return { say: `Sorry, that's not an option. ${menu}, or 0 for a person.`, action: 'say', intent: 'dtmf', state };
  }

  private route(department: DepartmentConfig, state: AgentDecision['state']): AgentDecision {
    const tools = [{ name: 'route_department', args: { department: department.name } }];
    if (department.number) {
      return {
        say: `Connecting you to ${department.name} now.`,
        action: 'transfer',
        transferTo: department.number,
        department: department.name,
        intent: department.name,
        state: { ...state, department: department.name, unclear: 0 },
        tools,
      };
    }
    return {
      say: department.welcome,
      action: 'route',
      department: department.name,
      intent: department.name,
      state: { ...state, department: department.name, unclear: 0, offeredHuman: false, secure: department.secureInput || undefined },
      tools,
    };
  }

  private toHuman(state: AgentDecision['state'], transferTo?: string): AgentDecision {
    if (!transferTo) {
      return {
        say: "I'm sorry, no one is available to take your call right now. I can still help with billing, support or sales.",
        action: 'say',
        intent: 'human',
        state: { ...state, offeredHuman: false },
      };
    }
    return {
      say: 'Please hold while I connect you to a member of our team.',
      action: 'transfer',
      transferTo,
      intent: 'human',
      state: { ...state, offeredHuman: false },
      tools: [{ name: 'transfer_call', args: { to: 'human' } }],
    };
  }
}

// Keywords too common to route on when a clearer one is said in the same turn.
const WEAK = new Set(['help', 'new', 'working', 'issue', 'issues', 'problem', 'problems', 'sign', 'pay']);

/** The last routing intent the caller mentioned and did not negate ("not sales"). */
function lastMention(agent: AgentConfig, words: string[]): Mention | undefined {
  let strong: Mention | undefined;
  let weak: Mention | undefined;
  words.forEach((word, index) => {
    if (NEGATORS.has(words[index - 1] ?? '') || NEGATORS.has(words[index - 2] ?? '')) return;
    if (HUMAN.test(word) && (word !== 'real' || words[index + 1] === 'person')) {
      strong = { kind: 'human', index };
      return;
    }
    const department = agent.departments.find((d) => d.name === word || d.keywords.includes(word));
    if (!department) return;
    const mention: Mention = { kind: 'department', department, index };
    if (WEAK.has(word)) weak = mention;
    else strong = mention;
  });
  return strong ?? weak;
}
