import { Injectable } from '@nestjs/common';
import { CallsRepository } from './calls.repository.js';
import { PrismaService } from './prisma.service.js';
import type { CallEventRecord, CallStartRecord, CallStatusRecord, TurnRecord } from './records.js';

export interface TranscriptWrite {
  call: CallStartRecord;
  turns: TurnRecord[];
  events: CallEventRecord[];
  status?: CallStatusRecord;
}

/**
 * The hot write path of every webhook, in one SQL statement: the call row (created, or
 * completed where it was only a stub), its new turns and events, each ignored if already
 * stored. One round trip instead of an interactive transaction of five — the worker writes
 * several hundred of these a second. A status change follows as its own conditional update.
 */
@Injectable()
export class TranscriptWritesRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly calls: CallsRepository,
  ) {}

  async write({ call, turns, events, status }: TranscriptWrite): Promise<void> {
    const turnRows = JSON.stringify(
      turns.map((t) => ({ ...t, confidence: t.confidence ?? null, data: t.data ?? null, interrupted: t.interrupted ?? false, redactions: t.redactions ?? [], timings: t.timings ?? null })),
    );
    const eventRows = JSON.stringify(events.map((e) => ({ ...e, data: e.data ?? null })));
    await this.prisma.$executeRaw`
      WITH call_row AS (
        INSERT INTO calls (id, "callSid", "accountSid", direction, "fromNumber", "toNumber", mode, "agentName", "startedAt", "updatedAt")
        VALUES (gen_random_uuid(), ${call.callSid}, ${call.accountSid ?? null}, ${call.direction}::"CallDirection",
                ${call.fromNumber ?? null}, ${call.toNumber ?? null}, ${call.mode}::"CallMode", ${call.agentName},
                ${call.startedAt}::timestamptz, now())
        ON CONFLICT ("callSid") DO UPDATE SET
          "accountSid" = COALESCE(calls."accountSid", EXCLUDED."accountSid"),
          "fromNumber" = COALESCE(calls."fromNumber", EXCLUDED."fromNumber"),
          "toNumber" = COALESCE(calls."toNumber", EXCLUDED."toNumber")
        RETURNING "callSid"
      ),
      new_turns AS (
        INSERT INTO turns ("callSid", seq, speaker, text, confidence, "startedAt", "endedAt", "latencyMs", action, data, interrupted, redactions, timings)
        SELECT t."callSid", t.seq, t.speaker::"Speaker", t.text, t.confidence, t."startedAt", t."endedAt", t."latencyMs", t.action, t.data, t.interrupted, t.redactions, t.timings
        FROM jsonb_to_recordset(${turnRows}::jsonb) AS t(
          "callSid" text, seq int, speaker text, text text, confidence real, "startedAt" timestamptz,
          "endedAt" timestamptz, "latencyMs" int, action text, data jsonb, interrupted boolean, redactions text[], timings jsonb)
        WHERE EXISTS (SELECT 1 FROM call_row)
        ON CONFLICT ("callSid", seq) DO NOTHING
      ),
      new_events AS (
        INSERT INTO call_events ("callSid", type, "dedupeKey", data, "createdAt")
        SELECT e."callSid", e.type, e."dedupeKey", e.data, e.at
        FROM jsonb_to_recordset(${eventRows}::jsonb) AS e("callSid" text, type text, "dedupeKey" text, data jsonb, at timestamptz)
        WHERE EXISTS (SELECT 1 FROM call_row)
        ON CONFLICT ("callSid", "dedupeKey") DO NOTHING
      )
      SELECT 1`;
    if (status) await this.calls.applyStatus(status);
  }
}
