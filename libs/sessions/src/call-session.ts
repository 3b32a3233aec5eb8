import type { AgentState, HistoryEntry } from '#libs/agents';
import type { CallDirection, CallMode } from '#libs/database';

/** Live state of one call, kept in Redis for the call's lifetime (with a TTL). */
export interface CallSession {
  callSid: string;
  accountSid?: string;
  from?: string;
  to?: string;
  direction: CallDirection;
  mode: CallMode;
  agentName: string;
  /** ISO timestamp */
  startedAt: string;
  /**
   * Number of the latest TwiML document that listens for the caller. Every `<Gather>` action
   * URL carries its step, which makes each caller turn addressable: a retried webhook for a
   * step already answered gets the stored reply instead of a second turn.
   */
  step: number;
  /** Sequence number of the last transcript turn written for this call. */
  seq: number;
  /** Unusable results in a row (empty or low confidence). */
  misses: number;
  /** Bounded window of recent turns; older ones are folded into `agent.summary`. */
  history: HistoryEntry[];
  agent: AgentState;
  /** Agent turn being computed on the worker, if any. */
  pending?: PendingTurn;
  /** Number of caller turns so far. */
  callerTurns: number;
  /** Stream/relay binding token (later modes). */
  streamToken?: string;
}

export interface PendingTurn {
  step: number;
  jobId: string;
  /** Epoch ms when the caller's words reached us. */
  receivedAt: number;
}

/** What a new session is made from: the call's identity; counters and history start empty. */
export type NewCallSession = Pick<CallSession, 'callSid' | 'accountSid' | 'from' | 'to' | 'direction' | 'mode' | 'agentName'> &
  Partial<Pick<CallSession, 'startedAt' | 'streamToken'>>;

/** A fresh session, listening for the caller's first turn (step 1). */
export function newCallSession(fields: NewCallSession): CallSession {
  return {
    startedAt: new Date().toISOString(),
    ...fields,
    step: 1,
    seq: 0,
    misses: 0,
    history: [],
    agent: {},
    callerTurns: 0,
  };
}

/** How many turns the live history keeps; older turns survive only in the summary. */
export const HISTORY_WINDOW = 12;

export function appendHistory(session: CallSession, entry: HistoryEntry): void {
  // Keypad input of a secure step: the history (Redis, the model) learns only that digits came.
  if (session.agent.secure && entry.role === 'caller' && /^pressed [\d*#]+$/.test(entry.text)) entry = { ...entry, text: 'pressed [secure input]' };
  session.history.push(entry);
  while (session.history.length > HISTORY_WINDOW) {
    const dropped = session.history.shift()!;
    const summary = `${session.agent.summary ?? ''} ${dropped.role}: ${dropped.text}`.trim();
    // The running summary is bounded too: keep its most recent part.
    session.agent.summary = summary.length > 1000 ? summary.slice(summary.length - 1000) : summary;
  }
}
