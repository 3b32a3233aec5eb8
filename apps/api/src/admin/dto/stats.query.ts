import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';

const DAYS_MESSAGE = '$property must be an integer from 1 to 90';

export class StatsQuery {
  @ApiPropertyOptional({ description: 'Start of the range (ISO 8601, inclusive). Default: 30 days before `until`.', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  since?: string;

  @ApiPropertyOptional({ description: 'End of the range (ISO 8601, exclusive). Default: now.', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  until?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 90, description: 'The last N days up to `until` (or now); instead of `since`.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: DAYS_MESSAGE })
  @Min(1, { message: DAYS_MESSAGE })
  @Max(90, { message: DAYS_MESSAGE })
  days?: number;
}
