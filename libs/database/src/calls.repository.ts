import { Injectable } from '@nestjs/common';
import type { Prisma } from './generated/client.js';
import { PrismaService } from './prisma.service.js';
import { TERMINAL_STATUSES, type CallStartRecord, type CallStatusRecord } from './records.js';

type Tx = Prisma.TransactionClient;

/**
 * Order of call statuses. Callbacks arrive out of order and twice: a status only replaces
 * one of a lower rank, so "completed" is never overwritten by a late "ringing". "abandoned"
 * (set by the sweep) still yields to a real final status that arrives late.
 */
const RANK: Record<string, number> = {
  queued: 0, initiated: 1, ringing: 2, 'in-progress': 3, answered: 3, abandoned: 4,
  ...Object.fromEntries(TERMINAL_STATUSES.map((s) => [s, 5])),
};

/** Statuses after which a call gets no more turns: final ones and "abandoned". */
export const ENDED_STATUSES: readonly string[] = Object.keys(RANK).filter((s) => RANK[s] >= RANK.abandoned);

export function statusRank(status: string): number {
  return RANK[status] ?? -1;
}

function statusesBelow(rank: number): string[] {
  return Object.keys(RANK).filter((s) => RANK[s] < rank);
}

@Injectable()
export class CallsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates the call row if it is missing; an existing row is left as it is. */
  async ensure(call: CallStartRecord, tx: Tx = this.prisma): Promise<void> {
    await tx.call.upsert({
      where: { callSid: call.callSid },
      create: {
        callSid: call.callSid,
        accountSid: call.accountSid,
        direction: call.direction,
        fromNumber: call.fromNumber,
        toNumber: call.toNumber,
        mode: call.mode,
        agentName: call.agentName,
        startedAt: new Date(call.startedAt),
      },
      update: {},
    });
  }

  /** Applies a status callback if it moves the call forward; returns whether it did. */
  async applyStatus(update: CallStatusRecord, tx: Tx = this.prisma): Promise<boolean> {
    const rank = statusRank(update.status);
    if (rank < 0) return false;
    const at = new Date(update.at);
    const final = rank === 5;
    const result = await tx.call.updateMany({
      where: { callSid: update.callSid, status: { in: statusesBelow(rank) } },
      data: {
        status: update.status,
        statusSeq: update.sequence ?? -1,
        ...(update.status === 'in-progress' ? { answeredAt: at } : {}),
        ...(final ? { endedAt: at, durationSec: update.durationSec ?? null } : {}),
      },
    });
    return result.count > 0;
  }

  /** Calls still open in Postgres whose last change is older than `before`. */
  async findStale(before: Date, limit: number): Promise<string[]> {
    const rows = await this.prisma.call.findMany({
      where: { status: { in: statusesBelow(RANK.abandoned) }, updatedAt: { lt: before } },
      select: { callSid: true },
      take: limit,
    });
    return rows.map((r) => r.callSid);
  }

  async markAbandoned(callSid: string, at: Date): Promise<boolean> {
    const result = await this.prisma.call.updateMany({
      where: { callSid, status: { in: statusesBelow(RANK.abandoned) } },
      data: { status: 'abandoned', endedAt: at, disposition: 'abandoned' },
    });
    return result.count > 0;
  }

  async saveOutcome(callSid: string, outcome: { disposition: string; intent?: string; summary: string }) {
    await this.prisma.call.update({ where: { callSid }, data: outcome });
  }

  findWithTranscript(callSid: string) {
    return this.prisma.call.findUnique({
      where: { callSid },
      include: { turns: { orderBy: { seq: 'asc' } }, events: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
    });
  }
}
