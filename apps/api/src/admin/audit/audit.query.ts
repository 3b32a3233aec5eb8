import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class AuditQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page (`nextCursor`).' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: '$property is malformed' })
  cursor?: string;

  @ApiPropertyOptional({ description: 'Only entries about this call.' })
  @IsOptional()
  @Matches(/^CA[0-9a-fA-F]{32}$/, { message: '$property must be a Twilio CallSid (CA + 32 hex digits)' })
  callSid?: string;

  @ApiPropertyOptional({ enum: ['read_call', 'read_transcript', 'erase', 'retention_erase'] })
  @IsOptional()
  @Matches(/^[a-z_]{1,32}$/, { message: '$property must be an action name' })
  action?: string;
}
