import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/client.js';
import { AuditRepository } from './audit.repository.js';
import { ENDED_STATUSES } from './calls.repository.js';
import { PrismaService } from './prisma.service.js';

/** Event types whose data never holds speech (status changes, audit entries): kept on erasure. */
const KEPT_EVENT_TYPES = ['status', 'erased'];

export interface ErasureAudit {
  /** Who erased the call (API key id and name); stored in the audit event. */
  by: { keyId: string; name: string };
  at: Date;
  /** Route (or job) that erased it, for the audit trail; default `DELETE /admin/calls/<sid>`. */
  route?: string;
  /** Audit action name; default `erase` (the retention job uses `retention_erase`). */
  action?: string;
  /** Only erase a call not erased before (the retention job): a second run changes nothing. */
  once?: boolean;
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
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  /**
   * Ended calls that started before `before` and are not erased yet, oldest first, at most
   * `limit` (the retention job's batch). Uses the (startedAt, id) index.
   */
  async findExpired(before: Date, limit: number): Promise<string[]> {
    const rows = await this.prisma.call.findMany({
      where: { startedAt: { lt: before }, erasedAt: null, status: { in: [...ENDED_STATUSES] } },
      orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
      take: limit,
      select: { callSid: true },
    });
    return rows.map((r) => r.callSid);
  }

  /** Returns null when the call does not exist. */
  erase(callSid: string, audit: ErasureAudit): Promise<ErasureResult | null> {
    return this.prisma.$transaction(async (tx) => {
      const call = await tx.call.updateMany({ where: { callSid, ...(audit.once ? { erasedAt: null } : {}) }, data: { summary: null, erasedAt: audit.at } });
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
      await this.audit.record(
        {
          action: audit.action ?? 'erase',
          keyId: audit.by.keyId,
          keyName: audit.by.name,
          route: audit.route ?? `DELETE /admin/calls/${callSid}`,
          callSid,
          data: { turnsErased: turns.count, eventsErased: events.count },
          at: audit.at,
        },
        tx,
      );
      return { turnsErased: turns.count, eventsErased: events.count };
    });
  }
}
