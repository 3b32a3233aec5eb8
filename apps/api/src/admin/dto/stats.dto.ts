import { ApiProperty } from '@nestjs/swagger';

export class DayCountDto {
  @ApiProperty({ example: '2026-11-26', description: 'UTC day.' }) day: string;
  @ApiProperty() calls: number;
}

export class StatsDto {
  @ApiProperty({ format: 'date-time' }) since: string;
  @ApiProperty({ format: 'date-time' }) until: string;
  @ApiProperty() totalCalls: number;
  @ApiProperty({ type: Number, nullable: true }) averageDurationSec: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Transferred calls / calls with a disposition.' }) transferRate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Median latencyMs of agent turns.' }) medianAgentLatencyMs: number | null;
  @ApiProperty({ type: [DayCountDto], description: 'Every UTC day of the range, zero-filled.' }) perDay: DayCountDto[];
}
