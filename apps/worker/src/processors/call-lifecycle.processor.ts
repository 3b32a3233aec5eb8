import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppConfig } from '#libs/config';
import { CallsRepository } from '#libs/database';
import { CallLifecycleQueue, QueueName, type CallLifecycleJobData } from '#libs/queues';
import { REDIS, RedisKeys } from '#libs/redis';
import { summarizeCall } from './call-summary.js';

/** Post-call summaries, and the sweep that closes calls whose status callbacks never came. */
@Processor(QueueName.CallLifecycle, { concurrency: 2 })
export class CallLifecycleProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(CallLifecycleProcessor.name);

  constructor(
    private readonly calls: CallsRepository,
    private readonly lifecycle: CallLifecycleQueue,
    private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.lifecycle.scheduleSweep(60_000).catch((err: Error) => this.logger.warn({ err: err.message }, 'could not schedule the sweep'));
  }

  async process(job: Job<CallLifecycleJobData>): Promise<unknown> {
    const data = job.data;
    if (data.kind === 'post-call') return this.postCall(data.callSid);
    return this.sweep();
  }

  private async postCall(callSid: string): Promise<void> {
    const call = await this.calls.findWithTranscript(callSid);
    if (!call) throw new Error(`call ${callSid} is not stored yet`); // retried: its rows may still be queued
    await this.calls.saveOutcome(callSid, summarizeCall(call.status, call.turns));
  }

  /** A call still open in Postgres, with no live session left in Redis, was abandoned. */
  private async sweep(): Promise<{ abandoned: number }> {
    const before = new Date(Date.now() - this.config.CALL_SESSION_TTL_SECONDS * 1000);
    let abandoned = 0;
    for (const callSid of await this.calls.findStale(before, 500)) {
      if (await this.redis.exists(RedisKeys.session(callSid))) continue;
      if (await this.calls.markAbandoned(callSid, new Date())) {
        abandoned++;
        await this.lifecycle.postCall(callSid, 0);
      }
    }
    if (abandoned) this.logger.log({ abandoned }, 'marked calls without status callbacks as abandoned');
    return { abandoned };
  }
}
