import { Injectable } from '@nestjs/common';
import { TranscriptWritesRepository, type TranscriptWrite } from '#libs/database';
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
    const write = toWrite(redactBatch(batch, this.redactor));
    if (write) await this.writes.write(write);
  }

  /**
   * Applies many writes in one transaction (a batch drained from the stream): all of them are
   * stored when it resolves, none when it throws. Same result as applying them one by one.
   */
  async applyMany(batches: TranscriptJobData[]): Promise<void> {
    const writes = batches.map((b) => toWrite(redactBatch(b, this.redactor))).filter((w): w is TranscriptWrite => w !== undefined);
    if (writes.length) await this.writes.writeMany(writes);
  }
}

function toWrite(batch: TranscriptJobData): TranscriptWrite | undefined {
  const callSid = batch.call?.callSid ?? batch.status?.callSid ?? batch.turns?.[0]?.callSid ?? batch.events?.[0]?.callSid;
  if (!callSid) return undefined;
  return {
    // A write without the call's details (never sent by the api today) still needs its row.
    call: batch.call ?? { callSid, direction: 'inbound', mode: 'gather', agentName: 'default', startedAt: new Date().toISOString() },
    turns: batch.turns ?? [],
    events: batch.events ?? [],
    status: batch.status,
  };
}
