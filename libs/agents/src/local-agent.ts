import { createHash } from 'node:crypto';
import type { AgentConfig, DepartmentConfig, FaqEntry } from './agent-config.js';
import type { AgentDecision, AgentProvider, AgentState, AgentTurnRequest, TokenSink } from './agent.types.js';
import { bestFaq, tokenize } from './faq-search.js';

export { tokenize } from './faq-search.js';

const GOODBYE = /\b(good ?bye|bye|that'?s all|that is all|hang up|nothing else|no thanks?|i'?m done)\b/;
const HUMAN = /\b(human|person|people|someone|somebody|agent|representative|operator|real)\b/;
const YES = /^(yes|yeah|yep|sure|please|ok|okay|yes please|that'?d be great|correct|go ahead|alright|all right)\b/;
const NO = /^(no|nope|nah|not now|not really|no need|i'?m fine|i'?m good)\b/;
const NEGATORS = new Set(['not', "don't", 'dont', 'never', 'without']);
const ANYTHING_ELSE = 'Is there anything else I can help with?';
/** Department keywords that name the department rather than describe a problem. */
const GENERIC = new Set(['support', 'technical', 'help', 'billing', 'sales']);

interface Mention {
  kind: 'department' | 'human';
  department?: DepartmentConfig;
  index: number;
}

interface Turn {
  agent: AgentConfig;
  callSid: string;
  text: string;
  words: string[];
  state: AgentState;
  transferTo?: string;
}

/**
 * The embedded receptionist: deterministic, offline, a few milliseconds per turn.
 * Routes (with corrections such as "billing… wait, no, sales"), answers the FAQ, and in each
 * department holds a short conversation: support gathers the problem and when it happens and
 * opens a ticket, billing answers from the FAQ and offers the team, sales takes the plan of
 * interest and offers a callback. What it has gathered lives in the agent state (the session).
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
    const words = tokenize(request.input.text);
    const turn: Turn = {
      agent, callSid: request.callSid, words, text: words.join(' '),
      // A secure step lasts one turn: whatever the caller does next ends it.
      state: { ...request.state, secure: undefined, facts: { ...request.state.facts } },
      transferTo: agent.transferNumber ?? this.fallbackTransferNumber,
    };
    if (request.input.kind === 'dtmf' && request.state.secure) {
      // The digits never reach an agent (see AgentState.secure); a payment system would take them.
      return this.say(turn, `Thank you, I've got that. ${ANYTHING_ELSE}`, { awaiting: 'anything_else' }, 'secure_input');
    }
    if (request.input.kind === 'dtmf') return this.onDigit(turn, request.input.text);
    const { state, text } = turn;

    // Answers to the question the agent just asked.
    if ((state.offeredHuman || state.awaiting === 'transfer_offer') && YES.test(text)) return this.transfer(turn);
    if (state.awaiting === 'callback_offer' && YES.test(text)) return this.bookCallback(turn);
    if (state.awaiting === 'anything_else' && YES.test(text) && words.length <= 2) {
      return this.say(turn, 'Of course. What else can I help with?', { awaiting: undefined }, 'more');
    }
    if (NO.test(text) && !GOODBYE.test(text)) {
      if (state.awaiting === 'anything_else') return this.goodbye(turn);
      if (state.awaiting === 'transfer_offer' || state.awaiting === 'callback_offer' || state.offeredHuman) {
        return this.say(turn, `No problem. ${ANYTHING_ELSE}`, { awaiting: 'anything_else', offeredHuman: false }, 'declined');
      }
    }

    const mention = lastMention(agent, words);
    if (mention?.kind === 'human') return this.toHuman(turn);
    if (mention?.department && mention.department.name !== state.department) return this.route(turn, mention.department);
    if (GOODBYE.test(text)) return this.goodbye(turn);

    // What the department conversation is waiting for.
    const faq = bestFaq(agent.faq, words);
    switch (state.awaiting) {
      case 'problem':
        if (!faq) return this.askWhen(turn, request.input.text);
        break;
      case 'when':
        return this.openTicket(turn, request.input.text);
      case 'plan':
        if (!faq) return this.offerSalesCallback(turn, request.input.text);
        break;
    }
    if (faq) return this.answerFaq(turn, faq);
    if (state.awaiting === 'billing_question') {
      return this.say(turn, 'I can help with your balance, ways to pay, and refunds. Or would you like me to put you through to our billing team?', { awaiting: 'transfer_offer' }, 'billing');
    }
    return this.unclear(turn);
  }

  private say(turn: Turn, say: string, state: Partial<AgentState>, intent: string, tools?: AgentDecision['tools']): AgentDecision {
    return { say, action: 'say', intent, state: { ...turn.state, unclear: 0, ...state }, tools };
  }

  private onDigit(turn: Turn, digits: string): AgentDecision {
    if (digits === '0') return this.toHuman(turn);
    const department = turn.agent.departments.find((d) => d.digit === digits);
    if (department) return this.route(turn, department);
    const menu = turn.agent.departments.filter((d) => d.digit).map((d) => `press ${d.digit} for ${d.name}`).join(', ');
    return { say: `Sorry, that's not an option. ${menu}, or 0 for a person.`, action: 'say', intent: 'dtmf', state: turn.state };
  }

  private route(turn: Turn, department: DepartmentConfig): AgentDecision {
    const tools = turn.agent.tools.includes('route_department') ? [{ name: 'route_department', args: { department: department.name } }] : undefined;
    const state: AgentState = { ...turn.state, department: department.name, unclear: 0, offeredHuman: false, awaiting: undefined, facts: {} };
    if (department.number) {
      return { say: `Connecting you to ${department.name} now.`, action: 'transfer', transferTo: department.number, department: department.name, intent: department.name, state, tools };
    }
    const routed = (say: string, awaiting: AgentState['awaiting'], facts: Record<string, string> = {}, extra: AgentDecision['tools'] = []): AgentDecision => ({
      say, action: 'route', department: department.name, intent: department.name, state: { ...state, awaiting, facts }, tools: [...(tools ?? []), ...extra],
    });
    // A department whose welcome asks for keypad input (a card number) waits for those digits.
    if (department.secureInput) return { ...routed(department.welcome, undefined), state: { ...state, secure: true } };
    const welcome = firstSentence(department.welcome);
    switch (department.name) {
      case 'support': {
        // "My internet is broken" already says what the problem is: do not ask for it again.
        const describes = turn.words.some((w) => department.keywords.includes(w) && !GENERIC.has(w)) && turn.words.length >= 3;
        if (describes) return routed(`${welcome} I'm sorry to hear that. When does it happen: all the time, or at particular times?`, 'when', { problem: clip(turn.text) });
        return routed(department.welcome, 'problem');
      }
      case 'billing': {
        const faq = bestFaq(turn.agent.faq.filter((f) => f.department === 'billing'), turn.words);
        if (faq) return routed(`${welcome} ${faq.answer} Would you like me to put you through to our billing team?`, 'transfer_offer', {}, this.faqTool(turn, faq));
        return routed(department.welcome, 'billing_question');
      }
      case 'sales':
        return routed(department.welcome, 'plan');
      default:
        return routed(department.welcome, undefined);
    }
  }

  private askWhen(turn: Turn, problem: string): AgentDecision {
    return this.say(turn, "Thanks. I'm sorry about that. When does it happen: all the time, or at particular times?", { awaiting: 'when', facts: { ...turn.state.facts, problem: clip(problem) } }, turn.state.department ?? 'support');
  }

  private openTicket(turn: Turn, when: string): AgentDecision {
    const facts: Record<string, string> = { ...turn.state.facts, when: clip(when) };
    const ticket = ticketNumber(turn.callSid, facts.problem ?? '');
    const spoken = ticket.split('').join(' ');
    return this.say(
      turn,
      `Thank you. I've opened ticket ${spoken} for you, and a technician will look into it. ${ANYTHING_ELSE}`,
      { awaiting: 'anything_else', facts: { ...facts, ticket } },
      'support',
      [{ name: 'create_ticket', args: { problem: facts.problem ?? '', when: facts.when }, result: `ticket ${ticket}` }],
    );
  }

  private offerSalesCallback(turn: Turn, plan: string): AgentDecision {
    return this.say(
      turn,
      'Thanks, I have noted your interest. Would you like someone from our sales team to call you back about it?',
      { awaiting: 'callback_offer', facts: { ...turn.state.facts, plan: clip(plan) } },
      'sales',
    );
  }

  private answerFaq(turn: Turn, faq: FaqEntry): AgentDecision {
    const tools = this.faqTool(turn, faq);
    if (faq.department && faq.department === turn.state.department) {
      return this.say(turn, `${faq.answer} Would you like me to put you through to our ${faq.department} team?`, { awaiting: 'transfer_offer', offeredHuman: false }, 'faq', tools);
    }
    return this.say(turn, `${faq.answer} ${ANYTHING_ELSE}`, { awaiting: 'anything_else', offeredHuman: false }, 'faq', tools);
  }

  private faqTool(turn: Turn, faq: FaqEntry): AgentDecision['tools'] {
    return turn.agent.tools.includes('lookup_faq') ? [{ name: 'lookup_faq', args: { question: faq.question }, result: faq.answer }] : [];
  }

  /** Puts the caller through to the current department's line, or a person; offers a callback when nobody can take it. */
  private transfer(turn: Turn): AgentDecision {
    const department = turn.agent.departments.find((d) => d.name === turn.state.department);
    const to = (turn.state.awaiting === 'transfer_offer' ? department?.number : undefined) ?? turn.transferTo;
    if (!to) return this.offerCallback(turn);
    return {
      say: 'Please hold while I connect you to a member of our team.',
      action: 'transfer',
      transferTo: to,
      intent: 'human',
      state: { ...turn.state, offeredHuman: false, awaiting: undefined },
      tools: [{ name: 'transfer_call', args: { to: 'human' } }],
    };
  }

  private toHuman(turn: Turn): AgentDecision {
    return turn.transferTo ? this.transfer({ ...turn, state: { ...turn.state, awaiting: undefined } }) : this.offerCallback(turn);
  }

  private offerCallback(turn: Turn): AgentDecision {
    return this.say(
      turn,
      "I'm sorry, no one is available to take your call right now. Would you like someone to call you back on this number?",
      { awaiting: 'callback_offer', offeredHuman: false },
      'callback_offered',
    );
  }

  private bookCallback(turn: Turn): AgentDecision {
    const team = turn.state.department ? `our ${turn.state.department} team` : 'our team';
    return this.say(
      turn,
      `Thank you. Someone from ${team} will call you back on this number within one working day. ${ANYTHING_ELSE}`,
      { awaiting: 'anything_else' },
      'callback',
      [{ name: 'schedule_callback', args: { department: turn.state.department ?? null, ...turn.state.facts }, result: 'callback requested' }],
    );
  }

  private goodbye(turn: Turn): AgentDecision {
    return {
      say: 'Thank you for calling. Goodbye!',
      action: 'hangup',
      intent: 'goodbye',
      state: { ...turn.state, awaiting: undefined },
      tools: turn.agent.tools.includes('end_call') ? [{ name: 'end_call', args: { reason: 'caller said goodbye' } }] : undefined,
    };
  }

  private unclear(turn: Turn): AgentDecision {
    const { state, agent } = turn;
    const unclear = (state.unclear ?? 0) + 1;
    const options = agent.departments.map((d) => d.name).join(', ').replace(/, ([^,]*)$/, ' or $1');
    if (unclear >= 2 && turn.transferTo) {
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
}

const firstSentence = (text: string) => /^[^.!?]*[.!?]/.exec(text)?.[0] ?? text;
const clip = (text: string) => text.trim().slice(0, 200);

/** A stable six-digit ticket number for this call's problem (the same turn retried gets the same one). */
function ticketNumber(callSid: string, problem: string): string {
  const n = createHash('sha256').update(`${callSid}:${problem}`).digest().readUInt32BE(0) % 900_000;
  return String(100_000 + n);
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
