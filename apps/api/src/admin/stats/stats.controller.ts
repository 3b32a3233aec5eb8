import { Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../admin-controller.decorator.js';
import { RequireScope } from '../auth/scopes.decorator.js';
import { StatsQuery } from '../dto/stats.query.js';
import { StatsDto } from '../dto/stats.dto.js';
import { StatsService } from './stats.service.js';

@AdminController('stats', 'stats')
export class StatsController {
  constructor(private readonly service: StatsService) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Calls per UTC day, average duration, transfer rate and median agent latency over [since, until), or the last `days` days.' })
  @ApiOkResponse({ type: StatsDto })
  @ApiBadRequestResponse({ description: 'Invalid or too long range (more than 366 days), or both days and since.' })
  stats(@Query() query: StatsQuery): Promise<StatsDto> {
    return this.service.stats(query);
  }
}
