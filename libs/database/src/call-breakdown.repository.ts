import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service.js';

export interface CallBreakdownRow {
  dispositions: { disposition: string; calls: number }[];
  /** Agent-turn latency percentiles per call mode (ms). */
  latencyByMode: { mode: string; turns: number; p50: number | null; p90: number | null; p99: number | null }[];
  /** Transfer rate per UTC day (transferred / calls with a disposition). */
  transfersPerDay: { day: string; calls: number; transferred: number }[];
}

/** The console's charts beyond GET /admin/stats: dispositions, latency per mode, transfers per day. */
@Injectable()
export class CallBreakdownRepository {
  constructor(private readonly prisma: PrismaService) {}

  async breakdown(since: Date, until: Date): Promise<CallBreakdownRow> {
    const dispositions = await this.prisma.$queryRaw<CallBreakdownRow['dispositions']>`
      SELECT coalesce(c.disposition, 'none') AS disposition, count(*)::int AS calls
      FROM calls c WHERE c."startedAt" >= ${since} AND c."startedAt" < ${until}
      GROUP BY 1 ORDER BY 2 DESC`;
    const latencyByMode = await this.prisma.$queryRaw<CallBreakdownRow['latencyByMode']>`
      SELECT c.mode::text AS mode, count(*)::int AS turns,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY t."latencyMs")::float8 AS p50,
        percentile_cont(0.9) WITHIN GROUP (ORDER BY t."latencyMs")::float8 AS p90,
        percentile_cont(0.99) WITHIN GROUP (ORDER BY t."latencyMs")::float8 AS p99
      FROM turns t JOIN calls c ON c."callSid" = t."callSid"
      WHERE c."startedAt" >= ${since} AND c."startedAt" < ${until} AND t.speaker = 'agent' AND t."latencyMs" IS NOT NULL
      GROUP BY 1 ORDER BY 1`;
    const transfersPerDay = await this.prisma.$queryRaw<CallBreakdownRow['transfersPerDay']>`
      SELECT to_char(c."startedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS calls,
        (count(*) FILTER (WHERE c.disposition = 'transferred'))::int AS transferred
      FROM calls c WHERE c."startedAt" >= ${since} AND c."startedAt" < ${until}
      GROUP BY 1 ORDER BY 1`;
    return { dispositions, latencyByMode, transfersPerDay };
  }
}
