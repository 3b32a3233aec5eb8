/**
 * Every Redis key the product uses is built here. Keys of a call carry its SID in a hash tag
 * (`{CA…}`), so a call's keys live in one Cluster slot and `callKeyPattern` finds them all.
 */
export const RedisKeys = {
  session: (callSid: string) => `call:{${callSid}}:session`,
  lock: (callSid: string) => `call:{${callSid}}:lock`,
  /** The TwiML already returned for one webhook of the call (`step`, or `step-wN` for waits). */
  reply: (callSid: string, id: string | number) => `call:{${callSid}}:reply:${id}`,
  /** Glob matching every key of one call (cleanup and tests). */
  callKeyPattern: (callSid: string) => `call:{${callSid}}:*`,
  /** Sorted set: worker id → last heartbeat (ms). */
  workerHeartbeats: () => 'workers:heartbeats',
  /** Pub/sub channel carrying one agent turn's streamed tokens and its end (not a stored key). */
  turnChannel: (callSid: string, step: number) => `call:{${callSid}}:turn:${step}`,
  /** Pub/sub channel on which the api asks workers to abort a turn. */
  cancelChannel: () => 'agent-turns:cancel',
} as const;
