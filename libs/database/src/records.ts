/** Plain records the repositories accept; shared by the queue payloads that carry them. */

export type CallDirection = 'inbound' | 'outbound';
export type CallMode = 'gather' | 'stream' | 'relay';
export type Speaker = 'caller' | 'agent' | 'tool' | 'system';

export interface CallStartRecord {
  callSid: string;
  accountSid?: string;
  direction: CallDirection;
  fromNumber?: string;
  toNumber?: string;
  mode: CallMode;
  agentName: string;
  /** ISO timestamp */
  startedAt: string;
}

export interface TurnRecord {
  callSid: string;
  seq: number;
  speaker: Speaker;
  text: string;
  confidence?: number;
  /** ISO timestamps */
  startedAt: string;
  endedAt?: string;
  latencyMs?: number;
  action?: string;
  data?: Record<string, unknown>;
  interrupted?: boolean;
  /** PII placeholder types put into `text` before storage (card, ssn, email, phone). */
  redactions?: string[];
  /** Agent turns: where the caller's wait went, per stage (ms). */
  timings?: TurnTimings;
}

export interface CallEventRecord {
  callSid: string;
  type: string;
  /** Unique per call: a retried write of the same event is ignored. */
  dedupeKey: string;
  data?: Record<string, unknown>;
  /** ISO timestamp */
  at: string;
}

export interface CallStatusRecord {
  callSid: string;
  status: string;
  /** Twilio's SequenceNumber of the callback, when it has one. */
  sequence?: number;
  durationSec?: number;
  /** ISO timestamp of the event */
  at: string;
}

export const TERMINAL_STATUSES = ['completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;

/**
 * Stages of one agent turn, timed in milliseconds and stored with the agent's turn:
 * `total` is what the caller waited (gather: webhook in → TwiML out; stream: end of caller
 * speech → first agent audio frame; relay: prompt → first token sent), the others are where
 * that time went. A stage a mode does not have (Twilio recognises in gather and relay) is absent.
 */
export const TURN_STAGES = ['total', 'recognition', 'queue', 'model_first_token', 'model_total', 'synthesis_first_audio'] as const;
export type TurnStage = (typeof TURN_STAGES)[number];
export type TurnTimings = Partial<Record<TurnStage, number>>;
