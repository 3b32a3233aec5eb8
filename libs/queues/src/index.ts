export { QueuesModule } from './queues.module.js';
export { AgentTurnQueue, type TurnOutcome } from './agent-turn.queue.js';
export { TranscriptQueue } from './transcript.queue.js';
export { CallLifecycleQueue } from './call-lifecycle.queue.js';
export * from './queue-names.js';
export { withTimeout, TimeoutError } from './with-timeout.js';
export { TurnEventsPublisher, TurnEventsSubscriber, type TurnEvent, type TurnFailureCode } from './turn-events.js';
export { TranscriptStream, TranscriptStreamReader, TRANSCRIPT_GROUP, type TranscriptEntry } from './transcript-stream.js';
