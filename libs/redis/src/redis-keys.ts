/**
 * Every Redis key the product uses is built here. Keys of a call carry its SID in a hash tag
 * (`{CA…}`), so a call's keys live in one Cluster slot and `callKeyPattern` finds them all.
 */
export const RedisKeys = {
  session: (callSid: string) => `call:{${callSid}}:session`,
  lock: (callSid: string) => `call:{${callSid}}:lock`,
  /** Hash: webhook id (`step`, or `step-wN` for waits) → the TwiML already returned for it. */
  replies: (callSid: string) => `call:{${callSid}}:replies`,
  /** Glob matching every key of one call (cleanup and tests). */
  callKeyPattern: (callSid: string) => `call:{${callSid}}:*`,
  /** Sorted set: call SID → start (ms) of every call with a live session (GET /admin/live). */
  liveCalls: () => 'calls:live',
  /** Admin API request counter of one API key for one rate-limit window. */
  adminRateLimit: (keyId: string, window: number) => `ratelimit:admin:${keyId}:${window}`,
  /** Sorted set: worker id → last heartbeat (ms). */
  workerHeartbeats: () => 'workers:heartbeats',
  /** Pub/sub channel carrying one agent turn's streamed tokens and its end (not a stored key). */
  turnChannel: (callSid: string, step: number) => `call:{${callSid}}:turn:${step}`,
  /** Pub/sub channel on which the api asks workers to abort a turn. */
  cancelChannel: () => 'agent-turns:cancel',
  /**
   * Pub/sub channel of one api process: workers publish the end of every turn that process
   * enqueued here, so a waiting webhook learns it with no per-turn subscribe and no polling.
   */
  turnReplyChannel: (instanceId: string) => `agent-turns:replies:${instanceId}`,
  /**
   * Stream of accepted transcript writes (one entry per webhook's write), drained by the
   * workers' consumer group in batches; an entry is acknowledged and deleted only after the
   * Postgres transaction holding it committed.
   */
  transcriptStream: () => 'transcripts:stream',
  /** Stream of transcript writes Postgres rejected on their own (poison entries), for an operator. */
  transcriptDeadLetters: () => 'transcripts:dead',
} as const;
