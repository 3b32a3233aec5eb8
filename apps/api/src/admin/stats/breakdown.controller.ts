import { Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty } from '@nestjs/swagger';
import { CallBreakdownRepository } from '#libs/database';
import { AdminController } from '../admin-controller.decorator.js';
import { InvalidQueryError } from '../admin-errors.js';
import { RequireScope } from '../auth/scopes.decorator.js';
import { StatsQuery } from '../dto/stats.query.js';

class DispositionCountDto {
  @ApiProperty() disposition: string;
  @ApiProperty() calls: number;
}
class ModeLatencyDto {
  @ApiProperty({ enum: ['gather', 'stream', 'relay'] }) mode: string;
  @ApiProperty() turns: number;
  @ApiProperty({ type: Number, nullable: true }) p50: number | null;
  @ApiProperty({ type: Number, nullable: true }) p90: number | null;
  @ApiProperty({ type: Number, nullable: true }) p99: number | null;
}
class DayTransfersDto {
  @ApiProperty() day: string;
  @ApiProperty() calls: number;
  @ApiProperty() transferred: number;
}
class BreakdownDto {
  @ApiProperty({ format: 'date-time' }) since: string;
  @ApiProperty({ format: 'date-time' }) until: string;
  @ApiProperty({ type: [DispositionCountDto] }) dispositions: DispositionCountDto[];
  @ApiProperty({ type: [ModeLatencyDto] }) latencyByMode: ModeLatencyDto[];
  @ApiProperty({ type: [DayTransfersDto] }) transfersPerDay: DayTransfersDto[];
}

const DAY_MS = 86_400_000;

/** GET /admin/stats/breakdown: dispositions, agent latency percentiles per mode, transfers per day (the console's charts). */
@AdminController('stats/breakdown', 'stats')
export class StatsBreakdownController {
  constructor(private readonly repo: CallBreakdownRepository) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Dispositions, agent latency percentiles per mode and transfers per day over a range (default: 30 days).' })
  @ApiOkResponse({ type: BreakdownDto })
  async breakdown(@Query() query: StatsQuery): Promise<BreakdownDto> {
    const until = query.until ? new Date(query.until) : new Date();
    const since = query.since ? new Date(query.since) : new Date(until.getTime() - 30 * DAY_MS);
    if (since >= until) throw new InvalidQueryError('since must be before until');
    if (until.getTime() - since.getTime() > 366 * DAY_MS) throw new InvalidQueryError('the range may span at most 366 days');
    return { since: since.toISOString(), until: until.toISOString(), ...(await this.repo.breakdown(since, until)) };
  }
}
