export { SessionsModule } from './sessions.module.js';
export { CallSessionStore, CallBusyError } from './call-session.store.js';
export { appendHistory, HISTORY_WINDOW, type CallSession, type PendingTurn } from './call-session.js';
