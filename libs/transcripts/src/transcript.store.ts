import { Injectable } from '@nestjs/common';
import { CallsRepository, PrismaService, TurnsRepository } from '#libs/database';
import type { TranscriptJobData } from '#libs/queues';

/** Applies one transcript write to Postgres in a transaction. Idempotent: a replay changes nothing. */
@Injectable()
export class TranscriptStore {
  constructor(
    private readonly prisma: PrismaService,
    private readonly calls: CallsRepository,
    private readonly turns: TurnsRepository,
  ) {}

  async apply(batch: TranscriptJobData): Promise<void> {
    const callSid = batch.call?.callSid ?? batch.status?.callSid ?? batch.turns?.[0]?.callSid ?? batch.events?.[0]?.callSid;
    if (!callSid) return;
    await this.prisma.$transaction(async (tx) => {
      await this.calls.ensure(
        batch.call ?? { callSid, direction: 'inbound', mode: 'gather', agentName: 'default', startedAt: new Date().toISOString() },
        tx,
      );
      await this.turns.insertTurns(batch.turns ?? [], tx);
      await this.turns.insertEvents(batch.events ?? [], tx);
      if (batch.status) await this.calls.applyStatus(batch.status, tx);
    });
  }
}
