export { SessionsModule } from './sessions.module.js';
export { CallSessionStore, CallBusyError, type CallSnapshot, type CommitOptions, type HeldLock } from './call-session.store.js';
export { appendHistory, newCallSession, HISTORY_WINDOW, type CallSession, type NewCallSession, type PendingTurn } from './call-session.js';
