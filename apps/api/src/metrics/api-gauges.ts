import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MetricsService } from '#libs/metrics';
import { CallSessionStore, type CallSession } from '#libs/sessions';
import { TranscriptWriter } from '#libs/transcripts';

/** Live sessions are read at most this often, whatever the number of scrapers. */
const LIVE_CACHE_MS = 5000;

/**
 * Gauges only the api can read: calls in progress by mode (the live-call index in Redis, the
 * same read as GET /admin/live, cached) and this process's transcript spool (writes held in
 * memory while both Redis and Postgres are down).
 */
@Injectable()
export class ApiGauges implements OnModuleInit {
  private live?: { at: number; sessions: Promise<CallSession[]> };

  constructor(
    private readonly metrics: MetricsService,
    private readonly sessions: CallSessionStore,
    private readonly writer: TranscriptWriter,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge('switchboard_live_calls', 'Calls in progress (live sessions), by mode', ['mode'], async (set) => {
      const sessions = await this.liveSessions().catch(() => undefined);
      if (!sessions) return;
      const byMode: Record<string, number> = { gather: 0, stream: 0, relay: 0 };
      for (const s of sessions) if (s.mode in byMode) byMode[s.mode]++;
      for (const [mode, n] of Object.entries(byMode)) set({ mode }, n);
    });
    this.metrics.gauge('switchboard_transcript_spool_depth', 'Transcript writes held in memory while Redis and Postgres are unreachable', [], (set) =>
      set({}, this.writer.pending),
    );
  }

  private liveSessions(): Promise<CallSession[]> {
    const now = Date.now();
    if (!this.live || now - this.live.at > LIVE_CACHE_MS) {
      const sessions = this.sessions.listLive();
      this.live = { at: now, sessions };
      sessions.catch(() => (this.live = undefined));
    }
    return this.live.sessions;
  }
}
