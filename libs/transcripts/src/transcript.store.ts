import { Injectable } from '@nestjs/common';
import { TranscriptWritesRepository } from '#libs/database';
import type { TranscriptJobData } from '#libs/queues';
import { PiiRedactor } from '#libs/redaction';
import { redactBatch } from './redact-batch.js';

/** Applies one transcript write to Postgres. Idempotent: a replay changes nothing. */
@Injectable()
export class TranscriptStore {
  constructor(
    private readonly writes: TranscriptWritesRepository,
    private readonly redactor: PiiRedactor,
  ) {}

  async apply(batch: TranscriptJobData): Promise<void> {
    // Again on the worker: a write enqueued by an older api (or any other producer) is redacted too.
    batch = redactBatch(batch, this.redactor);
    const callSid = batch.call?.callSid ?? batch.status?.callSid ?? batch.turns?.[0]?.callSid ?? batch.events?.[0]?.callSid;
    if (!callSid) return;
    await this.writes.write({
      // A write without the call's details (never sent by the api today) still needs its row.
      call: batch.call ?? { callSid, direction: 'inbound', mode: 'gather', agentName: 'default', startedAt: new Date().toISOString() },
      turns: batch.turns ?? [],
      events: batch.events ?? [],
      status: batch.status,
    });
  }
}
