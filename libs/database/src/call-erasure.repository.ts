import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/client.js';
import { PrismaService } from './prisma.service.js';

/** Event types whose data never holds speech (status changes, audit entries): kept on erasure. */
const KEPT_EVENT_TYPES = ['status', 'erased'];

export interface ErasureAudit {
  /** Who erased the call (API key id and name); stored in the audit event. */
  by: { keyId: string; name: string };
  at: Date;
}

export interface ErasureResult {
  turnsErased: number;
  eventsErased: number;
}

/**
 * Erases what was said on a call (privacy requests): turn texts and data, event data that can
 * hold speech or digits, the summary. The call row, its numbers, timing and outcome stay, so
 * billing and statistics still add up, and an `erased` event records who erased it and when.
 */
@Injectable()
export class CallErasureRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Returns null when the call does not exist. */
  erase(callSid: string, audit: ErasureAudit): Promise<ErasureResult | null> {
    return this.prisma.$transaction(async (tx) => {
      const call = await tx.call.updateMany({ where: { callSid }, data: { summary: null, erasedAt: audit.at } });
      if (call.count === 0) return null;
      // textSearch is generated from text, so the search index forgets the words too.
      const turns = await tx.turn.updateMany({ where: { callSid }, data: { text: '', data: Prisma.DbNull } });
      const events = await tx.callEvent.updateMany({
        where: { callSid, type: { notIn: KEPT_EVENT_TYPES }, NOT: { data: { equals: Prisma.DbNull } } },
        data: { data: Prisma.DbNull },
      });
      await tx.callEvent.create({
        data: {
          callSid,
          type: 'erased',
          dedupeKey: `erased:${audit.at.toISOString()}:${audit.by.keyId}`.slice(0, 128),
          data: { keyId: audit.by.keyId, keyName: audit.by.name, at: audit.at.toISOString() },
          createdAt: audit.at,
        },
      });
      return { turnsErased: turns.count, eventsErased: events.count };
    });
  }
}
