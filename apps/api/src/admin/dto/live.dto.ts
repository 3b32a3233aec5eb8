import { ApiProperty } from '@nestjs/swagger';

export class LiveCallDto {
  @ApiProperty() callSid: string;
  @ApiProperty({ enum: ['inbound', 'outbound'] }) direction: string;
  @ApiProperty({ enum: ['gather', 'stream', 'relay'] }) mode: string;
  @ApiProperty() agentName: string;
  @ApiProperty({ type: String, nullable: true }) fromNumber: string | null;
  @ApiProperty({ type: String, nullable: true }) toNumber: string | null;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ description: 'Seconds since the call started.' }) durationSec: number;
  @ApiProperty({ description: 'Transcript turns so far (caller and agent).' }) turns: number;
  @ApiProperty({ description: 'Caller turns so far.' }) callerTurns: number;
}

export class LiveCallsDto {
  @ApiProperty({ type: [LiveCallDto] }) items: LiveCallDto[];
}
