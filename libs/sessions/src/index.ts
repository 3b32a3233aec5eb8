export { SessionsModule } from './sessions.module.js';
export { CallSessionStore, CallBusyError, type CallSnapshot } from './call-session.store.js';
export { appendHistory, newCallSession, HISTORY_WINDOW, type CallSession, type NewCallSession, type PendingTurn } from './call-session.js';
