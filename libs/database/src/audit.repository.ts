import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/client.js';
import { PrismaService } from './prisma.service.js';

/** One audit entry: who (API key, or the retention job) did what to which call, by which route. */
export interface AuditRecord {
  /** read_call, read_transcript, erase, retention_erase */
  action: string;
  keyId: string;
  keyName?: string;
  route: string;
  callSid?: string;
  data?: Record<string, unknown>;
  at?: Date;
}

export interface AuditRow extends Required<Pick<AuditRecord, 'action' | 'keyId' | 'route'>> {
  id: string;
  at: Date;
  keyName: string | null;
  callSid: string | null;
  data: unknown;
}

export interface AuditListFilter {
  limit: number;
  /** Keyset position: entries strictly older than (at, id). */
  before?: { at: Date; id: string };
  callSid?: string;
  action?: string;
}

type Tx = Prisma.TransactionClient;

/** The audit trail (table `audit_events`): append-only, newest first, keyset-paged. */
@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  async record(entry: AuditRecord, tx: Tx = this.prisma): Promise<void> {
    await tx.auditEvent.create({
      data: {
        action: entry.action,
        keyId: entry.keyId.slice(0, 64),
        keyName: entry.keyName?.slice(0, 64),
        route: entry.route.slice(0, 300),
        callSid: entry.callSid,
        data: (entry.data as Prisma.InputJsonValue | undefined) ?? Prisma.DbNull,
        ...(entry.at ? { at: entry.at } : {}),
      },
    });
  }

  async list(filter: AuditListFilter): Promise<AuditRow[]> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        ...(filter.callSid ? { callSid: filter.callSid } : {}),
        ...(filter.action ? { action: filter.action } : {}),
        ...(filter.before
          ? { OR: [{ at: { lt: filter.before.at } }, { at: filter.before.at, id: { lt: BigInt(filter.before.id) } }] }
          : {}),
      },
      orderBy: [{ at: 'desc' }, { id: 'desc' }],
      take: filter.limit,
    });
    return rows.map((r) => ({ ...r, id: r.id.toString() }));
  }
}
