import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { catchError, EMPTY, exhaustMap, from, interval, share, startWith, Subject, takeUntil, timer, type Observable } from 'rxjs';
import { CallSessionStore, type CallSession } from '#libs/sessions';

/** One live call as the console shows it (history is already PII-redacted in the session). */
export interface LiveFeedItem {
  callSid: string;
  direction: string;
  mode: string;
  agentName: string;
  startedAt: string;
  turns: number;
  callerTurns: number;
  lastTurn: { role: string; text: string } | null;
}

/** How often the live index is read; calls appear and disappear within about this long. */
const POLL_MS = 1000;

function toItem(s: CallSession): LiveFeedItem {
  const last = s.history.at(-1);
  return {
    callSid: s.callSid,
    direction: s.direction,
    mode: s.mode,
    agentName: s.agentName,
    startedAt: s.startedAt,
    turns: s.seq,
    callerTurns: s.callerTurns,
    lastTurn: last ? { role: last.role, text: last.text.slice(0, 300) } : null,
  };
}

/**
 * Calls in progress, polled from Redis once a second per api process and shared by every
 * subscriber (a hundred open consoles cost one read a second). Polling the shared live index,
 * rather than listening to this process's webhooks, sees the calls every api instance serves.
 */
@Injectable()
export class LiveFeed implements BeforeApplicationShutdown {
  private readonly logger = new Logger(LiveFeed.name);
  private readonly shared$: Observable<LiveFeedItem[]>;
  /** Completes every open stream at shutdown, so open consoles do not hold the HTTP server open. */
  private readonly closing$ = new Subject<void>();

  constructor(private readonly sessions: CallSessionStore) {
    this.shared$ = interval(POLL_MS).pipe(
      startWith(0),
      exhaustMap(() =>
        from(this.sessions.listLive()).pipe(
          catchError((err: Error) => {
            this.logger.warn({ err: err.message }, 'live feed: Redis read failed');
            return EMPTY;
          }),
        ),
      ),
      exhaustMap((sessions) => [sessions.map(toItem)]),
      share({ resetOnRefCountZero: true }),
    );
  }

  snapshots(): Observable<LiveFeedItem[]> {
    return this.shared$.pipe(takeUntil(this.closing$));
  }

  heartbeats(): Observable<number> {
    return timer(15_000, 15_000).pipe(takeUntil(this.closing$));
  }

  // Before the HTTP server closes: it waits for open responses, and an SSE stream never ends by itself.
  beforeApplicationShutdown(): void {
    this.closing$.next();
    this.closing$.complete();
  }
}
