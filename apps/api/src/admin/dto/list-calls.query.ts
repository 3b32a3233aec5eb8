import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsE164 } from './validators.js';

export const CALL_STATUSES = [
  'queued', 'initiated', 'ringing', 'in-progress', 'answered', 'completed', 'busy', 'failed', 'no-answer', 'canceled', 'abandoned',
] as const;

/** One message whichever rule fails first: "abc", 0 and 500 are all the same mistake. */
const LIMIT_MESSAGE = '$property must be an integer from 1 to 100';

export class ListCallsQuery {
  @ApiPropertyOptional({ enum: CALL_STATUSES })
  @IsOptional()
  @IsIn(CALL_STATUSES)
  status?: string;

  @ApiPropertyOptional({ enum: ['inbound', 'outbound'] })
  @IsOptional()
  @IsIn(['inbound', 'outbound'])
  direction?: 'inbound' | 'outbound';

  @ApiPropertyOptional({ enum: ['gather', 'stream', 'relay'] })
  @IsOptional()
  @IsIn(['gather', 'stream', 'relay'])
  mode?: 'gather' | 'stream' | 'relay';

  @ApiPropertyOptional({ description: 'Caller number (E.164; encode + as %2B).', example: '+15551234567' })
  @IsOptional()
  @IsE164()
  from?: string;

  @ApiPropertyOptional({ description: 'Called number (E.164; encode + as %2B).', example: '+15557654321' })
  @IsOptional()
  @IsE164()
  to?: string;

  @ApiPropertyOptional({ description: 'Calls started at or after this instant (ISO 8601).', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  since?: string;

  @ApiPropertyOptional({ description: 'Calls started before this instant (ISO 8601).', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  until?: string;

  @ApiPropertyOptional({ example: 'transferred', description: 'transferred, resolved, abandoned, unresolved …' })
  @IsOptional()
  @Matches(/^[a-z_-]{1,24}$/, { message: '$property must be 1 to 24 lowercase letters, - or _' })
  disposition?: string;

  @ApiPropertyOptional({
    description: 'Full-text search over the transcript (web-search syntax: "a phrase", -word, or), matched within single turns.',
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  // Postgres text cannot hold NUL: refuse it here rather than fail in the query.
  @Matches(/^[^\u0000]*$/, { message: '$property must not contain NUL characters' })
  q?: string;

  @ApiPropertyOptional({ enum: ['recent', 'relevance'], default: 'recent', description: 'recent: newest first. relevance (needs q): best match first. A term common enough is ranked among the matches in the most recent turns only (20,000, widened once when they hold fewer than 500 matching calls); a rare term or a search with filters ranks every match.' })
  @IsOptional()
  @IsIn(['recent', 'relevance'])
  sort?: 'recent' | 'relevance';

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 25 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(100, { message: LIMIT_MESSAGE })
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from nextCursor of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}
