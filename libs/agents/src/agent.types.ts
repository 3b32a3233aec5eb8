/** What any agent provider receives and returns. Providers run on the worker. */

export type HistoryRole = 'caller' | 'agent' | 'tool';

export interface HistoryEntry {
  role: HistoryRole;
  text: string;
}

/** Conversation state the agent carries between turns (kept in the live session). */
export interface AgentState {
  department?: string;
  /** Consecutive turns the agent could not understand (drives clarifying questions). */
  unclear?: number;
  /** Running summary of turns that fell out of the history window. */
  summary?: string;
  /** The agent offered a person on its last turn; a "yes" now means transfer. */
  offeredHuman?: boolean;
  /**
   * The agent's last question collects sensitive keypad input (a card number, a PIN): the next
   * DTMF input is never stored, logged or put into the history — only that digits were entered.
   */
  secure?: boolean;
}

export interface AgentInput {
  kind: 'speech' | 'dtmf';
  text: string;
  confidence?: number;
}

export type AgentAction = 'say' | 'route' | 'transfer' | 'hangup';

/** The agent's decision for one turn. `say` is plain text, escaped when it becomes TwiML. */
export interface AgentDecision {
  say: string;
  action: AgentAction;
  /** For `route` (and a transfer to a department). */
  department?: string;
  /** For `transfer`: an E.164 number to dial. */
  transferTo?: string;
  /** The caller's intent as the agent understood it (billing, support, sales, faq, human, goodbye …). */
  intent?: string;
  /** New agent state to keep for the next turn. */
  state: AgentState;
  /** Tool calls made while deciding (name and arguments), stored as transcript turns. */
  tools?: { name: string; args: Record<string, unknown>; result?: string }[];
  /** The model's answer broke off mid-stream: `say` holds the complete sentences that arrived. */
  truncated?: boolean;
}

export interface AgentTurnRequest {
  callSid: string;
  agentName: string;
  input: AgentInput;
  history: HistoryEntry[];
  state: AgentState;
  /**
   * Epoch ms by which the answer must be ready (set by the worker from the agent's turn budget).
   * Providers do not start a retry they cannot finish before it. Default: now + turn budget.
   */
  deadline?: number;
}

/** Receives the text of the answer as it is produced (sentences or model tokens). */
export type TokenSink = (text: string) => void;

/** A finished call's transcript, for a written summary. */
export interface CallSummaryRequest {
  callSid: string;
  agentName: string;
  turns: { speaker: 'caller' | 'agent' | 'tool' | 'system'; text: string; action?: string | null }[];
}

/** A model or rule engine that decides the agent's next turn. */
export interface AgentProvider {
  readonly name: string;
  /**
   * Writes a short operator-facing summary of a finished call. Optional: without it (the
   * embedded agent) the post-call job keeps its extractive summary. Rejects on any failure.
   */
  summarize?(request: CallSummaryRequest, signal: AbortSignal): Promise<string>;
  /**
   * Decides the turn. Streaming providers pass text to `onToken` as it arrives, so a
   * streaming call mode can speak the first sentence before the answer is complete.
   * Must stop promptly (and reject) when `signal` aborts.
   */
  respond(request: AgentTurnRequest, signal: AbortSignal, onToken?: TokenSink): Promise<AgentDecision>;
}
