import type { AgentDecision, AgentTurnRequest } from '#libs/agents';
import type { CallEventRecord, CallStartRecord, CallStatusRecord, TurnRecord, TurnTimings } from '#libs/database';

/** Queue names: the contract between the api (producers) and the worker (processors). */
export const QueueName = {
  /** One job per agent turn: ask the provider what to say and do. */
  AgentTurns: 'agent-turns',
  /** Durable transcript writes: call rows, turns, events, status changes. */
  Transcripts: 'transcripts',
  /** Per-call follow-up work: post-call summary, abandoned-call sweep. */
  CallLifecycle: 'call-lifecycle',
} as const;

/**
 * Worker options of the agent-turn queue: stalled-job recovery sized to the turn budget (8 s by
 * default, 14 s at most) instead of BullMQ's 30 s. A worker killed mid-turn stops renewing its
 * lock; the lock lapses after at most `lockDuration`, the next stalled check of any live worker
 * (every `stalledInterval`) moves the job back to wait, and another worker starts it: about 3 s
 * in the worst case, inside the caller's ceiling (TURN_CEILING_MS, 12 s). The lock is renewed
 * every second, so only an event loop blocked for 2 s could lose it by mistake — and a turn run
 * twice is harmless: only the lock holder can complete the job, and the api stores the turn
 * once. A job that stalls twice (it killed two workers) fails and the caller gets the apology.
 */
export const AGENT_TURN_WORKER_OPTIONS = { lockDuration: 2000, stalledInterval: 1000, maxStalledCount: 1 } as const;

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
  /** The worker's stages of the turn (ms): queue wait, model time to first token, model total. */
  timings?: Pick<TurnTimings, 'queue' | 'model_first_token' | 'model_total'>;
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
  | { kind: 'sweep-abandoned' }
  | { kind: 'retention' };

/** BullMQ rejects custom ids containing ':' (its key separator); parts are made safe here. */
const safe = (part: string | number) => String(part).replace(/:/g, '_');

/**
 * Deterministic job ids: the same turn (or write) enqueued twice, by a retried webhook or two
 * api instances, is one job. Parts are joined with '-' because ':' is not allowed.
 */
export const JobIds = {
  agentTurn: (callSid: string, step: number) => `turn-${safe(callSid)}-${safe(step)}`,
  transcript: (callSid: string, key: string) => `tx-${safe(callSid)}-${safe(key)}`,
  postCall: (callSid: string) => `postcall-${safe(callSid)}`,
} as const;
