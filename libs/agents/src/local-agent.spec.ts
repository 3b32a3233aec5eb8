import { describe, expect, it } from '@jest/globals';
import { readAgentsFile } from './agent-config.js';
import type { AgentDecision, AgentState } from './agent.types.js';
import { LocalAgent } from './local-agent.js';

const [acme] = readAgentsFile('config/agents.json');

/** One step of a conversation script: what the caller says and what the agent must answer. */
interface Line {
  caller: string;
  dtmf?: boolean;
  reply: RegExp;
  action?: AgentDecision['action'];
  tool?: string;
  intent?: string;
}

/**
 * Plays a conversation as the call modes do: each turn gets the state the last one returned
 * (what the session carries between turns, possibly to another worker) and nothing else.
 */
async function converse(script: Line[], options: { transferNumber?: string; callSid?: string } = {}) {
  const agent = new LocalAgent(() => acme, options.transferNumber);
  let state: AgentState = {};
  const decisions: AgentDecision[] = [];
  for (const line of script) {
    // Serialised like the Redis session: the state must survive JSON.
    state = JSON.parse(JSON.stringify(state)) as AgentState;
    const decision = await agent.respond(
      { callSid: options.callSid ?? 'CA00000000000000000000000000000001', agentName: 'default', input: { kind: line.dtmf ? 'dtmf' : 'speech', text: line.caller }, history: [], state },
      new AbortController().signal,
    );
    expect({ caller: line.caller, say: decision.say }).toEqual({ caller: line.caller, say: expect.stringMatching(line.reply) });
    if (line.action) expect(decision.action).toBe(line.action);
    if (line.tool) expect(decision.tools?.map((t) => t.name)).toContain(line.tool);
    if (line.intent) expect(decision.intent).toBe(line.intent);
    // No department's description is ever read to the caller.
    for (const d of acme.departments) expect(decision.say).not.toContain(d.description);
    decisions.push(decision);
    state = decision.state;
  }
  return decisions;
}

describe('the built-in agent holds a conversation', () => {
  it('support: takes the problem from the routing sentence, asks when, opens a ticket, closes', async () => {
    const decisions = await converse([
      { caller: 'my internet is broken', reply: /^You're through to technical support\. .*When does it happen/, action: 'route', tool: 'route_department' },
      { caller: 'it keeps dropping every evening', reply: /I've opened ticket \d( \d){5} for you.*anything else/, tool: 'create_ticket' },
      { caller: 'no', reply: /^Thank you for calling\. Goodbye!$/, action: 'hangup' },
    ]);
    const ticket = decisions[1].tools!.find((t) => t.name === 'create_ticket')!;
    expect(ticket.args).toEqual({ problem: 'my internet is broken', when: 'it keeps dropping every evening' });
    expect(ticket.result).toMatch(/^ticket \d{6}$/);
    expect(decisions[1].say.replace(/ /g, '')).toContain(ticket.result!.slice(7));
  });

  it('support: asks for the problem when the caller only names the department', async () => {
    await converse([
      { caller: 'technical support please', reply: /Please describe the problem\.$/ },
      { caller: 'the router light is blinking red', reply: /When does it happen/ },
      { caller: 'since this morning', reply: /opened ticket/, tool: 'create_ticket' },
      { caller: "that's all thanks", reply: /Goodbye/, action: 'hangup' },
    ]);
  });

  it('billing: answers a refund question from the FAQ, offers the team, and does not read the description', async () => {
    await converse([
      { caller: 'I was charged twice', reply: /^You're through to billing\. If you were charged twice.*Would you like me to put you through to our billing team\?$/, tool: 'lookup_faq' },
      { caller: 'no thanks', reply: /Goodbye/, action: 'hangup' },
    ]);
  });

  it('billing: balance and payment methods, then a transfer when a number is configured', async () => {
    await converse(
      [
        { caller: 'I have a question about my bill', reply: /What would you like to know about your bill\?$/ },
        { caller: "what's my balance", reply: /latest bill.*put you through to our billing team/, intent: 'faq' },
        { caller: 'no', reply: /^No problem\. Is there anything else/ },
        { caller: 'yes', reply: /What else can I help with/ },
        { caller: 'which payment methods do you take', reply: /card, by direct debit.*billing team/ },
        { caller: 'yes please', reply: /Please hold while I connect you/, action: 'transfer', tool: 'transfer_call' },
      ],
      { transferNumber: '+15005550009' },
    );
  });

  it('sales: takes the plan of interest and books a callback', async () => {
    const decisions = await converse([
      { caller: 'I want to talk to sales', reply: /Which plan are you interested in\?$/ },
      { caller: 'the fibre 500 plan', reply: /call you back/ },
      { caller: 'yes please', reply: /will call you back on this number/, tool: 'schedule_callback', intent: 'callback' },
      { caller: 'no that is all', reply: /Goodbye/, action: 'hangup' },
    ]);
    expect(decisions[2].tools![0].args).toMatchObject({ department: 'sales', plan: 'the fibre 500 plan' });
  });

  it('a person with no number configured: offers a callback instead of pretending to transfer', async () => {
    await converse([
      { caller: 'can I speak to a real person', reply: /no one is available.*call you back/, action: 'say', intent: 'callback_offered' },
      { caller: 'yes', reply: /will call you back/, intent: 'callback' },
      { caller: 'goodbye', reply: /Goodbye/ },
    ]);
    await converse([
      { caller: 'press', dtmf: false, reply: /didn't quite follow/ },
      { caller: '0', dtmf: true, reply: /no one is available/, intent: 'callback_offered' },
      { caller: 'no', reply: /No problem/ },
    ]);
  });

  it('a person with a number configured: transfers', async () => {
    await converse([{ caller: 'I want a human', reply: /Please hold/, action: 'transfer' }], { transferNumber: '+15005550009' });
  });

  it('keeps routing corrections and FAQ answers', async () => {
    await converse([
      { caller: 'billing... wait, no, sales', reply: /through to sales/ },
      { caller: 'what are your opening hours', reply: /Monday to Friday.*anything else/ },
      { caller: 'no', reply: /Goodbye/, action: 'hangup' },
    ]);
  });
});
