import type { Call, CallEvent, CallListRow, Turn } from '#libs/database';
import type { CallDetailDto, CallEventDto, CallListItemDto, CallSummaryDto, TurnDto } from '../dto/call.dto.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** Response shapes are built field by field: nothing internal (ids, sequence guards) leaks by accident. */
export function toCallSummary(c: Call | CallListRow): CallSummaryDto {
  return {
    callSid: c.callSid,
    direction: c.direction,
    mode: c.mode,
    agentName: c.agentName,
    status: c.status,
    fromNumber: c.fromNumber,
    toNumber: c.toNumber,
    startedAt: c.startedAt.toISOString(),
    answeredAt: iso(c.answeredAt),
    endedAt: iso(c.endedAt),
    durationSec: c.durationSec,
    disposition: c.disposition,
    intent: c.intent,
    erasedAt: iso(c.erasedAt),
  };
}

export function toListItem(row: CallListRow): CallListItemDto {
  const item: CallListItemDto = toCallSummary(row);
  if (row.rank !== null) item.match = { rank: row.rank, snippet: row.snippet ?? '' };
  return item;
}

export function toTurn(t: Turn): TurnDto {
  return {
    seq: t.seq,
    speaker: t.speaker,
    text: t.text,
    confidence: t.confidence,
    startedAt: t.startedAt.toISOString(),
    endedAt: iso(t.endedAt),
    latencyMs: t.latencyMs,
    action: t.action,
    data: t.data ?? null,
    interrupted: t.interrupted,
    redactions: t.redactions ?? [],
    timings: (t.timings as TurnDto['timings']) ?? null,
  };
}

export function toEvent(e: CallEvent): CallEventDto {
  return { type: e.type, data: e.data ?? null, at: e.createdAt.toISOString() };
}

export function toCallDetail(c: Call & { turns: Turn[]; events: CallEvent[] }): CallDetailDto {
  return { ...toCallSummary(c), summary: c.summary, turns: c.turns.map(toTurn), events: c.events.map(toEvent) };
}
