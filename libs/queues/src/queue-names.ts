import type { AgentDecision, AgentTurnRequest } from '#libs/agents';
import type { CallEventRecord, CallStartRecord, CallStatusRecord, TurnRecord } from '#libs/database';

/** Queue names: the contract between the api (producers) and the worker (processors). */
export const QueueName = {
  /** One job per agent turn: ask the provider what to say and do. */
  AgentTurns: 'agent-turns',
  /** Durable transcript writes: call rows, turns, events, status changes. */
  Transcripts: 'transcripts',
  /** Per-call follow-up work: post-call summary, abandoned-call sweep. */
  CallLifecycle: 'call-lifecycle',
} as const;

export interface AgentTurnJobData extends AgentTurnRequest {
  step: number;
  /** Epoch ms when the caller's words reached us; the answer's latency is measured from here. */
  receivedAt: number;
}

export interface AgentTurnJobResult {
  decision: AgentDecision;
  provider: string;
  /** Time the provider took, in ms. */
  providerMs: number;
  worker: string;
}

/** One idempotent write to Postgres: every part is keyed so a retry changes nothing. */
export interface TranscriptJobData {
  call?: CallStartRecord;
  turns?: TurnRecord[];
  events?: CallEventRecord[];
  status?: CallStatusRecord;
}

export type CallLifecycleJobData =
  | { kind: 'post-call'; callSid: string }
  | { kind: 'sweep-abandoned' };

/**
 * BullMQ job ids must not contain ':' (it is BullMQ's key separator), so ids are joined with '-'.
 */
export const JobIds = {
  agentTurn: (callSid: string, step: number) => `turn-${callSid}-${step}`,
  transcript: (callSid: string, key: string) => `tx-${callSid}-${key}`,
  postCall: (callSid: string) => `postcall-${callSid}`,
} as const;
