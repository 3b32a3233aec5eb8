import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';

export class StatsQuery {
  @ApiPropertyOptional({ description: 'Start of the range (ISO 8601, inclusive). Default: 30 days before `until`.', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  since?: string;

  @ApiPropertyOptional({ description: 'End of the range (ISO 8601, exclusive). Default: now.', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  until?: string;
}
