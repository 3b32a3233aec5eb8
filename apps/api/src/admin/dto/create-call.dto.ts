import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { IsE164 } from './validators.js';

export class CreateCallDto {
  @ApiProperty({ example: '+15557654321', description: 'Number to call (E.164).' })
  @IsE164()
  to: string;

  @ApiProperty({ example: '+15551234567', description: 'Caller id: a Twilio number of the account (E.164).' })
  @IsE164()
  from: string;

  @ApiPropertyOptional({ example: 'default', description: 'Agent that speaks on the call (default: DEFAULT_AGENT).' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '$property must be 1 to 64 letters, digits, - or _' })
  agent?: string;

  @ApiPropertyOptional({ enum: ['gather', 'stream', 'relay'], description: 'Default: DEFAULT_CALL_MODE.' })
  @IsOptional()
  @IsIn(['gather', 'stream', 'relay'])
  mode?: 'gather' | 'stream' | 'relay';
}

export class CreatedCallDto {
  @ApiProperty() callSid: string;
  @ApiProperty({ example: 'queued' }) status: string;
  @ApiProperty() to: string;
  @ApiProperty() from: string;
  @ApiProperty() agent: string;
  @ApiProperty({ enum: ['gather', 'stream', 'relay'] }) mode: string;
}
