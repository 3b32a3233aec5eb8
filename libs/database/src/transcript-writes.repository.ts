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
 * The hot write path of every webhook, in one SQL statement: the call rows (created, or
 * completed where they were only stubs), their new turns and events, each ignored if already
 * stored. The worker drains the transcript stream into it a batch at a time (thousands of
 * turns a second). Status changes follow as conditional updates in the same transaction.
 */
@Injectable()
export class TranscriptWritesRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly calls: CallsRepository,
  ) {}

  async write(write: TranscriptWrite): Promise<void> {
    await this.writeMany([write]);
  }

  /**
   * Many writes (a batch drained from the transcript stream) as one multi-row statement, plus
   * their status changes in order, in one transaction: all stored, or none. Calls named by
   * several writes are merged first (an upsert may not touch a row twice in one statement).
   */
  async writeMany(writes: TranscriptWrite[]): Promise<void> {
    const calls = new Map<string, CallStartRecord>();
    const turns: Record<string, unknown>[] = [];
    const events: Record<string, unknown>[] = [];
    const statuses: CallStatusRecord[] = [];
    for (const { call, turns: t, events: e, status } of writes) {
      const known = calls.get(call.callSid);
      calls.set(
        call.callSid,
        known
          ? { ...known, accountSid: known.accountSid ?? call.accountSid, fromNumber: known.fromNumber ?? call.fromNumber, toNumber: known.toNumber ?? call.toNumber }
          : call,
      );
      for (const turn of t) {
        turns.push({ ...turn, confidence: turn.confidence ?? null, data: turn.data ?? null, interrupted: turn.interrupted ?? false, redactions: turn.redactions ?? [], timings: turn.timings ?? null });
      }
      for (const event of e) events.push({ ...event, data: event.data ?? null });
      if (status) statuses.push(status);
    }
    const statement = this.statement([...calls.values()], turns, events);
    if (!statuses.length) {
      await statement(this.prisma);
      return;
    }
    await this.prisma.$transaction(async (tx) => {
      await statement(tx);
      for (const status of statuses) await this.calls.applyStatus(status, tx);
    });
  }

  private statement(calls: CallStartRecord[], turns: Record<string, unknown>[], events: Record<string, unknown>[]) {
    const callRows = JSON.stringify(calls.map((c) => ({ ...c, accountSid: c.accountSid ?? null, fromNumber: c.fromNumber ?? null, toNumber: c.toNumber ?? null })));
    const turnRows = JSON.stringify(turns);
    const eventRows = JSON.stringify(events);
    return (db: Pick<PrismaService, '$executeRaw'>) => db.$executeRaw`
      WITH call_rows AS (
        INSERT INTO calls (id, "callSid", "accountSid", direction, "fromNumber", "toNumber", mode, "agentName", "startedAt", "updatedAt")
        SELECT gen_random_uuid(), c."callSid", c."accountSid", c.direction::"CallDirection", c."fromNumber", c."toNumber",
               c.mode::"CallMode", c."agentName", c."startedAt", now()
        FROM jsonb_to_recordset(${callRows}::jsonb) AS c(
          "callSid" text, "accountSid" text, direction text, "fromNumber" text, "toNumber" text, mode text, "agentName" text, "startedAt" timestamptz)
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
        WHERE t."callSid" IN (SELECT "callSid" FROM call_rows)
        ORDER BY t."callSid", t.seq
        ON CONFLICT ("callSid", seq) DO NOTHING
      ),
      new_events AS (
        INSERT INTO call_events ("callSid", type, "dedupeKey", data, "createdAt")
        SELECT e."callSid", e.type, e."dedupeKey", e.data, e.at
        FROM jsonb_to_recordset(${eventRows}::jsonb) AS e("callSid" text, type text, "dedupeKey" text, data jsonb, at timestamptz)
        WHERE e."callSid" IN (SELECT "callSid" FROM call_rows)
        ON CONFLICT ("callSid", "dedupeKey") DO NOTHING
      )
      SELECT 1`;
  }
}
