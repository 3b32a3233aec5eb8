import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service.js';

export interface CallStatsRow {
  totalCalls: number;
  averageDurationSec: number | null;
  transferRate: number | null;
  medianAgentLatencyMs: number | null;
  perDay: { day: string; calls: number }[];
  /** p50/p95 of each stored turn-timing stage, per mode. */
  turnLatency: { mode: string; stage: string; turns: number; p50Ms: number; p95Ms: number }[];
}

/** Aggregates of the operator API's statistics, in SQL so only a few numbers leave Postgres. */
@Injectable()
export class CallStatsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Calls per UTC day, average duration, transfer rate, median agent latency and per-stage turn latency of calls started in [since, until). */
  async stats(since: Date, until: Date): Promise<CallStatsRow> {
    const [summary] = await this.prisma.$queryRaw<Omit<CallStatsRow, 'perDay'>[]>`
      SELECT count(*)::int AS "totalCalls",
        avg(c."durationSec")::float8 AS "averageDurationSec",
        (count(*) FILTER (WHERE c.disposition = 'transferred'))::float8 / nullif(count(c.disposition), 0) AS "transferRate",
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t."latencyMs")
           FROM turns t JOIN calls c2 ON c2."callSid" = t."callSid"
           WHERE c2."startedAt" >= ${since} AND c2."startedAt" < ${until}
             AND t.speaker = 'agent' AND t."latencyMs" IS NOT NULL)::float8 AS "medianAgentLatencyMs"
      FROM calls c
      WHERE c."startedAt" >= ${since} AND c."startedAt" < ${until}`;
    const perDay = await this.prisma.$queryRaw<{ day: string; calls: number }[]>`
      SELECT to_char(c."startedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS calls
      FROM calls c
      WHERE c."startedAt" >= ${since} AND c."startedAt" < ${until}
      GROUP BY 1 ORDER BY 1`;
    // One row per (mode, stage): the stored timings are unnested with jsonb_each_text.
    const turnLatency = await this.prisma.$queryRaw<CallStatsRow['turnLatency']>`
      SELECT c."mode"::text AS mode, s.key AS stage, count(*)::int AS turns,
        round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s.value::float8))::float8 AS "p50Ms",
        round(percentile_cont(0.95) WITHIN GROUP (ORDER BY s.value::float8))::float8 AS "p95Ms"
      FROM turns t
      JOIN calls c ON c."callSid" = t."callSid"
      CROSS JOIN LATERAL jsonb_each_text(t.timings) s
      WHERE c."startedAt" >= ${since} AND c."startedAt" < ${until}
        AND t.speaker = 'agent' AND t.timings IS NOT NULL AND jsonb_typeof(t.timings) = 'object'
      GROUP BY 1, 2 ORDER BY 1, 2`;
    return { ...summary, perDay, turnLatency };
  }
}
