import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AGENT_PROVIDER, type AgentProvider } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { CallsRepository } from '#libs/database';
import { CallLifecycleQueue, QueueName, type CallLifecycleJobData } from '#libs/queues';
import { REDIS, RedisKeys } from '#libs/redis';
import { RetentionService } from '../retention/retention.service.js';
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
    @Inject(AGENT_PROVIDER) private readonly provider: AgentProvider,
    private readonly retention: RetentionService,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.lifecycle.scheduleSweep(60_000).catch((err: Error) => this.logger.warn({ err: err.message }, 'could not schedule the sweep'));
    await this.lifecycle
      .scheduleRetention(this.retention.intervalMs)
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not schedule transcript retention'));
  }

  async process(job: Job<CallLifecycleJobData>): Promise<unknown> {
    const data = job.data;
    if (data.kind === 'post-call') return this.postCall(data.callSid);
    if (data.kind === 'retention') return this.retention.run();
    return this.sweep();
  }

  private async postCall(callSid: string): Promise<{ disposition?: string }> {
    const call = await this.calls.findWithTranscript(callSid);
    if (!call) throw new Error(`call ${callSid} is not stored yet`); // retried: its rows may still be queued
    const outcome = summarizeCall(call.status, call.turns);
    // Disposition and intent stay rule-based (they are facts of the transcript); a model, when
    // configured, only writes the prose. Its failure must not fail (and retry) the job.
    if (this.provider.summarize && call.turns.some((t) => t.speaker === 'caller')) {
      outcome.summary = await this.provider
        .summarize({ callSid, agentName: call.agentName, turns: call.turns }, AbortSignal.timeout(20_000))
        .catch((err: Error) => {
          this.logger.warn({ callSid, err: err.message }, 'model summary failed: keeping the extractive one');
          return outcome.summary;
        });
    }
    await this.calls.saveOutcome(callSid, outcome);
    return { disposition: outcome.disposition }; // read by the worker's job metrics
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
