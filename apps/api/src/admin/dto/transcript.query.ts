import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

export class TranscriptQuery {
  @ApiPropertyOptional({ enum: ['text', 'json'], default: 'text' })
  @IsOptional()
  @IsIn(['text', 'json'])
  format?: 'text' | 'json';
}
