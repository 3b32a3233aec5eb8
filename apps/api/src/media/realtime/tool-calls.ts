import { runTool, type AgentAction, type AgentConfig, type AgentDecision } from '#libs/agents';
import { appendHistory, type CallSession } from '#libs/sessions';
import type { Purpose, SpokenItem } from './playback.js';
import { toolEffect } from './realtime-session.js';
import type { TurnLedger } from './turn-ledger.js';

/** A function call the model completed. */
export interface FunctionCall {
  itemId: string;
  callId: string;
  name: string;
  arguments: string;
}

/**
 * The agent's tools (`transfer_call`, `end_call`, `route_department`, `lookup_faq`) run in our
 * code for the model. A lookup or a route is answered at once; a transfer or hang-up is only
 * announced: the model says what we decided (a response with purpose `action`), and the action
 * is carried out once that announcement has played.
 */
export class ToolCalls {
  /** A transfer or hang-up decided by a tool, to be announced by the next response. */
  private announce?: AgentDecision;
  /** What the next reply does (set by route_department), for its stored turn. */
  private nextTurnAction?: AgentAction;

  constructor(
    private readonly agent: AgentConfig,
    private readonly session: CallSession,
    private readonly ledger: TurnLedger,
    private readonly transferTo: string | undefined,
  ) {}

  /** The decision awaiting its announcement, if any. */
  get pending(): AgentDecision | undefined {
    return this.announce;
  }

  /** Runs the tool, stores its turn, and returns the `function_call_output` for the model. */
  run(call: FunctionCall): string {
    const outcome = runTool({ id: call.callId, name: call.name, arguments: call.arguments }, { agent: this.agent, transferTo: this.transferTo });
    this.ledger.fill('tool', call.itemId, (write) => {
      write.tool(outcome.record);
      appendHistory(this.session, { role: 'tool', text: `${outcome.record.name}${outcome.record.result ? ` → ${outcome.record.result}` : ''}` });
    });
    const effect = toolEffect(outcome, this.session.agent);
    if (effect.department) this.session.agent.department = effect.department;
    if (effect.nextTurnAction) this.nextTurnAction = effect.nextTurnAction;
    if (effect.announce) this.announce = effect.announce;
    return effect.output;
  }

  /** What a new spoken item of a response with `purpose` carries out and is stored as (taken once). */
  forItem(purpose: Purpose): { action?: AgentDecision; turnAction?: SpokenItem['turnAction'] } {
    if (purpose === 'greeting') return { turnAction: 'greeting' };
    if (purpose === 'action') {
      const action = this.announce;
      this.announce = undefined;
      return { action, turnAction: action?.action };
    }
    const turnAction = this.nextTurnAction;
    this.nextTurnAction = undefined;
    return { turnAction };
  }

  /** Takes the pending decision (the model said nothing: it is carried out anyway), or drops it (barge-in). */
  take(): AgentDecision | undefined {
    const action = this.announce;
    this.announce = undefined;
    return action;
  }
}
