import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobIds, QueueName, type CallLifecycleJobData } from './queue-names.js';
import { withTimeout } from './with-timeout.js';

/** Producer of per-call follow-up jobs and of the periodic abandoned-call sweep. */
@Injectable()
export class CallLifecycleQueue {
  private readonly logger = new Logger(CallLifecycleQueue.name);

  constructor(@InjectQueue(QueueName.CallLifecycle) private readonly queue: Queue<CallLifecycleJobData>) {
    // Connection errors surface in health checks and in the producers' own timeouts.
    queue.on('error', (err) => this.logger.warn({ err: err.message }, 'queue connection error'));
  }

  async postCall(callSid: string, delayMs = 2000): Promise<void> {
    await withTimeout(
      this.queue.add('post-call', { kind: 'post-call', callSid }, {
        jobId: JobIds.postCall(callSid),
        // Let the last transcript writes land before the summary is made.
        delay: delayMs,
        attempts: 20,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      }),
      1000,
      'enqueue post-call',
    );
  }

  /** Idempotent: one scheduler, however many workers start. */
  async scheduleSweep(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler('sweep-abandoned', { every: everyMs }, {
      name: 'sweep-abandoned',
      data: { kind: 'sweep-abandoned' },
      opts: { removeOnComplete: true, removeOnFail: 100 },
    });
  }

  /**
   * The transcript retention job (TRANSCRIPT_RETENTION_DAYS): one scheduler however many
   * workers start; `undefined` removes it, so unsetting the variable stops the erasures.
   */
  async scheduleRetention(everyMs: number | undefined): Promise<void> {
    if (everyMs === undefined) {
      await this.queue.removeJobScheduler('transcript-retention');
      return;
    }
    await this.queue.upsertJobScheduler('transcript-retention', { every: everyMs }, {
      name: 'transcript-retention',
      data: { kind: 'retention' },
      opts: { removeOnComplete: 50, removeOnFail: 100 },
    });
  }
}
