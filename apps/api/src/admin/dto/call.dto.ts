import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class CallSummaryDto {
  @ApiProperty() callSid: string;
  @ApiProperty({ enum: ['inbound', 'outbound'] }) direction: string;
  @ApiProperty({ enum: ['gather', 'stream', 'relay'] }) mode: string;
  @ApiProperty() agentName: string;
  @ApiProperty() status: string;
  @ApiProperty({ type: String, nullable: true }) fromNumber: string | null;
  @ApiProperty({ type: String, nullable: true }) toNumber: string | null;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) answeredAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) endedAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationSec: number | null;
  @ApiProperty({ type: String, nullable: true }) disposition: string | null;
  @ApiProperty({ type: String, nullable: true }) intent: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) erasedAt: string | null;
}

export class SearchMatchDto {
  @ApiProperty({ description: 'Sum of ts_rank over the matching turns.' }) rank: number;
  @ApiProperty({ description: 'Best matching turn, hits between ** marks.' }) snippet: string;
}

export class CallListItemDto extends CallSummaryDto {
  @ApiPropertyOptional({ type: SearchMatchDto, description: 'Present when q is given.' }) match?: SearchMatchDto;
}

export class CallListDto {
  @ApiProperty({ type: [CallListItemDto] }) items: CallListItemDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page.' })
  nextCursor: string | null;
}

/** Where an agent turn's latency went (ms); a stage the call's mode does not have is absent. */
export class TurnTimingsDto {
  @ApiProperty({ required: false, description: 'What the caller waited. gather: webhook in → TwiML out; stream: end of caller speech → first agent audio frame; relay: prompt → first token sent.' }) total?: number;
  @ApiProperty({ required: false, description: 'stream: end of caller speech → recognised text.' }) recognition?: number;
  @ApiProperty({ required: false, description: 'Turn enqueued → a worker started it.' }) queue?: number;
  @ApiProperty({ required: false, description: 'Worker start → the model\'s first token (non-streaming providers: its answer).' }) model_first_token?: number;
  @ApiProperty({ required: false, description: 'Worker start → the model\'s complete answer.' }) model_total?: number;
  @ApiProperty({ required: false, description: 'stream: the answer\'s first text → its first audio frame sent.' }) synthesis_first_audio?: number;
}

export class TurnDto {
  @ApiProperty() seq: number;
  @ApiProperty({ enum: ['caller', 'agent', 'tool', 'system'] }) speaker: string;
  @ApiProperty() text: string;
  @ApiProperty({ type: Number, nullable: true }) confidence: number | null;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) endedAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) latencyMs: number | null;
  @ApiProperty({ type: String, nullable: true }) action: string | null;
  @ApiProperty({ type: Object, nullable: true }) data: unknown;
  @ApiProperty() interrupted: boolean;
  @ApiProperty({ type: [String], description: 'PII placeholder types that replaced words of `text` before storage (card, ssn, email, phone).' })
  redactions: string[];
  @ApiProperty({ type: TurnTimingsDto, nullable: true, description: 'Agent turns: stage breakdown of the latency (ms).' }) timings: TurnTimingsDto | null;
}

export class CallEventDto {
  @ApiProperty() type: string;
  @ApiProperty({ type: Object, nullable: true }) data: unknown;
  @ApiProperty({ format: 'date-time' }) at: string;
}

export class CallDetailDto extends CallSummaryDto {
  @ApiProperty({ type: String, nullable: true }) summary: string | null;
  @ApiProperty({ type: [TurnDto] }) turns: TurnDto[];
  @ApiProperty({ type: [CallEventDto] }) events: CallEventDto[];
}

export class TranscriptLineDto {
  @ApiProperty() seq: number;
  @ApiProperty({ enum: ['caller', 'agent', 'tool', 'system'] }) speaker: string;
  @ApiProperty() text: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: 'Milliseconds since the call started.' }) offsetMs: number;
}

export class TranscriptDto {
  @ApiProperty() callSid: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) erasedAt: string | null;
  @ApiProperty({ type: [TranscriptLineDto] }) lines: TranscriptLineDto[];
}

export class ErasedCallDto {
  @ApiProperty() callSid: string;
  @ApiProperty({ format: 'date-time' }) erasedAt: string;
  @ApiProperty() turnsErased: number;
  @ApiProperty() eventsErased: number;
}
