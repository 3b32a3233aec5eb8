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
