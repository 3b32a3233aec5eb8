import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AGENT_PROVIDER, AgentRegistry, type AgentProvider } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { HeartbeatService } from '#libs/health';
import { QueueName, TurnEventsPublisher, type AgentTurnJobData, type AgentTurnJobResult } from '#libs/queues';
import { REDIS, RedisKeys } from '#libs/redis';

/**
 * Runs one agent turn. The lock is short and stalled jobs are checked often, so a worker
 * killed mid-turn hands its job to another worker within ~3 s, inside the caller's wait.
 */
@Processor(QueueName.AgentTurns, { lockDuration: 3000, stalledInterval: 1500, maxStalledCount: 1 })
export class AgentTurnProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AgentTurnProcessor.name);
  private readonly running = new Map<string, AbortController>();
  private subscriber?: Redis;

  constructor(
    @Inject(AGENT_PROVIDER) private readonly provider: AgentProvider,
    private readonly agents: AgentRegistry,
    private readonly config: AppConfig,
    private readonly heartbeat: HeartbeatService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly events: TurnEventsPublisher,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
    // Cancels come over pub/sub: the api publishes the job id when the caller hangs up or the turn is abandoned.
    this.subscriber = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel, jobId: string) => this.running.get(jobId)?.abort(new Error('cancelled')));
    await this.subscriber.subscribe(RedisKeys.cancelChannel()).catch(() => undefined);
  }

  async process(job: Job<AgentTurnJobData>): Promise<AgentTurnJobResult> {
    const agent = this.agents.get(job.data.agentName);
    const controller = new AbortController();
    const budget = setTimeout(() => controller.abort(new Error('turn budget exceeded')), agent.model.turnBudgetMs);
    this.running.set(job.id!, controller);
    const started = performance.now();
    const { callSid, step } = job.data;
    try {
      const decision = await this.provider.respond(job.data, controller.signal, (text) => {
        if (!controller.signal.aborted) void this.events.publish(callSid, step, { type: 'token', text });
      });
      const result: AgentTurnJobResult = {
        decision,
        provider: this.provider.name,
        providerMs: Math.round(performance.now() - started),
        worker: this.heartbeat.workerId,
      };
      void this.events.publish(callSid, step, { type: 'done', result });
      return result;
    } catch (err) {
      void this.events.publish(callSid, step, { type: 'failed', message: (err as Error).message });
      throw err;
    } finally {
      clearTimeout(budget);
      this.running.delete(job.id!);
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<AgentTurnJobData> | undefined, err: Error): void {
    this.logger.warn({ callSid: job?.data.callSid, step: job?.data.step, err: err.message }, 'agent turn failed');
  }

  async onModuleDestroy(): Promise<void> {
    for (const controller of this.running.values()) controller.abort(new Error('worker shutting down'));
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
