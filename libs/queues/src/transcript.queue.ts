import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QueueName, type TranscriptJobData } from './queue-names.js';
import { withTimeout } from './with-timeout.js';

/** Producer of durable transcript writes (processed by the worker, retried until Postgres takes them). */
@Injectable()
export class TranscriptQueue {
  private readonly logger = new Logger(TranscriptQueue.name);

  constructor(@InjectQueue(QueueName.Transcripts) private readonly queue: Queue<TranscriptJobData>) {
    // Connection errors surface in health checks and in the producers' own timeouts.
    queue.on('error', (err) => this.logger.warn({ err: err.message }, 'queue connection error'));
  }

  async add(jobId: string, data: TranscriptJobData): Promise<void> {
    await withTimeout(
      this.queue.add('write', data, {
        jobId,
        // Postgres may be down for a while: keep retrying (capped backoff, see the worker) for days.
        attempts: 100_000,
        backoff: { type: 'capped' },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      }),
      1000,
      'enqueue transcript write',
    );
  }
}
