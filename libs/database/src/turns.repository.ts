import { Injectable } from '@nestjs/common';
import type { Prisma } from './generated/client.js';
import { PrismaService } from './prisma.service.js';
import type { CallEventRecord, TurnRecord } from './records.js';

type Tx = Prisma.TransactionClient;

/** Turns and call events. Every write is idempotent on its natural key. */
@Injectable()
export class TurnsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts turns, ignoring any (callSid, seq) already stored: at-least-once delivery is safe. */
  async insertTurns(turns: TurnRecord[], tx: Tx = this.prisma): Promise<number> {
    if (turns.length === 0) return 0;
    const result = await tx.turn.createMany({
      data: turns.map((t) => ({
        callSid: t.callSid,
        seq: t.seq,
        speaker: t.speaker,
        text: t.text,
        confidence: t.confidence,
        startedAt: new Date(t.startedAt),
        endedAt: t.endedAt ? new Date(t.endedAt) : undefined,
        latencyMs: t.latencyMs,
        action: t.action,
        data: t.data as Prisma.InputJsonValue | undefined,
        interrupted: t.interrupted ?? false,
        timings: t.timings as Prisma.InputJsonValue | undefined,
      })),
      skipDuplicates: true,
    });
    return result.count;
  }

  async insertEvents(events: CallEventRecord[], tx: Tx = this.prisma): Promise<number> {
    if (events.length === 0) return 0;
    const result = await tx.callEvent.createMany({
      data: events.map((e) => ({
        callSid: e.callSid,
        type: e.type,
        dedupeKey: e.dedupeKey,
        data: e.data as Prisma.InputJsonValue | undefined,
        createdAt: new Date(e.at),
      })),
      skipDuplicates: true,
    });
    return result.count;
  }

  listTurns(callSid: string) {
    return this.prisma.turn.findMany({ where: { callSid }, orderBy: { seq: 'asc' } });
  }
}
