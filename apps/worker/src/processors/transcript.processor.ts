import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QueueName, type TranscriptJobData } from '#libs/queues';
import { TranscriptStore } from '#libs/transcripts';

/** Capped exponential backoff with jitter: Postgres outages are retried for as long as they last. */
export function cappedBackoff(attemptsMade: number): number {
  const base = Math.min(30_000, 250 * 2 ** Math.min(attemptsMade, 10));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** Durable transcript writes. Idempotent, so at-least-once delivery stores each turn once. */
@Processor(QueueName.Transcripts, { concurrency: 8, settings: { backoffStrategy: cappedBackoff } })
export class TranscriptProcessor extends WorkerHost {
  constructor(private readonly store: TranscriptStore) {
    super();
  }

  async process(job: Job<TranscriptJobData>): Promise<void> {
    await this.store.apply(job.data);
  }
}
