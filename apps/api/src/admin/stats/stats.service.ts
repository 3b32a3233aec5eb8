import { Injectable } from '@nestjs/common';
import { CallStatsRepository } from '#libs/database';
import { InvalidQueryError } from '../admin-errors.js';
import type { StatsQuery } from '../dto/stats.query.js';
import type { StatsDto } from '../dto/stats.dto.js';

const DAY_MS = 86_400_000;
/** A year of days is plenty for a dashboard and bounds the per-day list. */
const MAX_RANGE_DAYS = 366;

/** Aggregates over a date range, with every UTC day present (zero-filled) for charts. */
@Injectable()
export class StatsService {
  constructor(private readonly queries: CallStatsRepository) {}

  async stats(query: StatsQuery): Promise<StatsDto> {
    const until = query.until ? new Date(query.until) : new Date();
    const since = query.since ? new Date(query.since) : new Date(until.getTime() - 30 * DAY_MS);
    if (since >= until) throw new InvalidQueryError('since must be before until');
    if (until.getTime() - since.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new InvalidQueryError(`the range may span at most ${MAX_RANGE_DAYS} days`);
    const row = await this.queries.stats(since, until);
    const counts = new Map(row.perDay.map((d) => [d.day, d.calls]));
    const perDay = [];
    for (let t = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()); t < until.getTime(); t += DAY_MS) {
      const day = new Date(t).toISOString().slice(0, 10);
      perDay.push({ day, calls: counts.get(day) ?? 0 });
    }
    return {
      since: since.toISOString(),
      until: until.toISOString(),
      totalCalls: row.totalCalls,
      averageDurationSec: row.averageDurationSec,
      transferRate: row.transferRate,
      medianAgentLatencyMs: row.medianAgentLatencyMs,
      perDay,
      turnLatency: row.turnLatency,
    };
  }
}
