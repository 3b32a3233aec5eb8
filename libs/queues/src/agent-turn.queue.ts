import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppConfig } from '#libs/config';
import { bullConnectionOptions, REDIS, RedisKeys } from '#libs/redis';
import { JobIds, QueueName, type AgentTurnJobData, type AgentTurnJobResult } from './queue-names.js';
import { withTimeout } from './with-timeout.js';

export type TurnOutcome =
  | { state: 'done'; result: AgentTurnJobResult }
  | { state: 'pending' }
  | { state: 'failed'; reason: string }
  | { state: 'missing' };

/** Producer of agent-turn jobs, and the only code that adds to that queue. */
@Injectable()
export class AgentTurnQueue implements OnModuleDestroy {
  private readonly logger = new Logger(AgentTurnQueue.name);
  private events?: QueueEvents;

  constructor(
    @InjectQueue(QueueName.AgentTurns) private readonly queue: Queue<AgentTurnJobData, AgentTurnJobResult>,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {
    queue.on('error', (err) => this.logger.warn({ err: err.message }, 'queue connection error'));
  }

  /**
   * Enqueues the turn. The job id is derived from call and step, so a retried webhook that
   * enqueues the same turn again adds nothing.
   */
  async enqueue(data: AgentTurnJobData): Promise<string> {
    const jobId = JobIds.agentTurn(data.callSid, data.step);
    await withTimeout(
      this.queue.add('turn', data, {
        jobId,
        // A worker that dies mid-turn is covered by stalled-job recovery (worker options), and
        // model failures are retried inside the turn budget by the provider; the worker marks
        // its own failures unrecoverable. This one retry is for anything else that throws.
        attempts: 2,
        backoff: { type: 'fixed', delay: 100 },
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 3600 },
      }),
      1000,
      'enqueue agent turn',
    );
    return jobId;
  }

  /** Waits at most `ms` for the turn's result; never throws. */
  async waitFor(jobId: string, ms: number): Promise<TurnOutcome> {
    try {
      const job = await withTimeout(Job.fromId<AgentTurnJobData, AgentTurnJobResult>(this.queue, jobId), 500, 'load job');
      if (!job) return { state: 'missing' };
      if (job.finishedOn && job.returnvalue) return { state: 'done', result: job.returnvalue };
      if (job.failedReason && job.finishedOn) return { state: 'failed', reason: job.failedReason };
      const result = await job.waitUntilFinished(this.queueEvents(), ms);
      return { state: 'done', result };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/timed out before finishing/.test(message) || /timed out after/.test(message)) return { state: 'pending' };
      const state = await withTimeout(this.queue.getJobState(jobId), 300, 'job state').catch(() => 'unknown');
      if (state === 'failed') return { state: 'failed', reason: message };
      if (state === 'unknown') return { state: 'missing' };
      return { state: 'pending' };
    }
  }

  /** Asks the worker running the turn to abort it, and drops it if it has not started. */
  async cancel(jobId: string): Promise<void> {
    await this.redis.publish(RedisKeys.cancelChannel(), jobId).catch(() => undefined);
    await withTimeout(this.queue.remove(jobId), 500, 'remove job').catch(() => undefined);
  }

  /** Removes finished jobs of a call, so no key of an ended call stays in Redis. */
  async forget(callSid: string, steps: number): Promise<void> {
    const ids = Array.from({ length: steps + 1 }, (_, step) => JobIds.agentTurn(callSid, step));
    await Promise.all(ids.map((id) => this.queue.remove(id).catch(() => 0)));
  }

  private queueEvents(): QueueEvents {
    if (!this.events) {
      this.events = new QueueEvents(QueueName.AgentTurns, {
        connection: bullConnectionOptions(this.config.REDIS_URL),
        prefix: this.queue.opts.prefix,
      });
      this.events.on('error', (err) => this.logger.warn({ err: err.message }, 'queue events connection error'));
    }
    return this.events;
  }

  async onModuleDestroy(): Promise<void> {
    await this.events?.close();
  }
}
