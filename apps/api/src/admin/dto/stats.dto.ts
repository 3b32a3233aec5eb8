import { ApiProperty } from '@nestjs/swagger';

export class DayCountDto {
  @ApiProperty({ example: '2026-11-26', description: 'UTC day.' }) day: string;
  @ApiProperty() calls: number;
}

export class StageLatencyDto {
  @ApiProperty({ enum: ['gather', 'stream', 'relay'] }) mode: string;
  @ApiProperty({ enum: ['total', 'recognition', 'queue', 'model_first_token', 'model_total', 'synthesis_first_audio'], description: 'total is what the caller waited; the others are where it went.' }) stage: string;
  @ApiProperty({ description: 'Agent turns with this stage timed.' }) turns: number;
  @ApiProperty() p50Ms: number;
  @ApiProperty() p95Ms: number;
}

export class StatsDto {
  @ApiProperty({ format: 'date-time' }) since: string;
  @ApiProperty({ format: 'date-time' }) until: string;
  @ApiProperty() totalCalls: number;
  @ApiProperty({ type: Number, nullable: true }) averageDurationSec: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Transferred calls / calls with a disposition.' }) transferRate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Median latencyMs of agent turns.' }) medianAgentLatencyMs: number | null;
  @ApiProperty({ type: [DayCountDto], description: 'Every UTC day of the range, zero-filled.' }) perDay: DayCountDto[];
  @ApiProperty({ type: [StageLatencyDto], description: 'p50 and p95 of each stage of agent turns, per mode, over the range (turns with stored timings).' }) turnLatency: StageLatencyDto[];
}
