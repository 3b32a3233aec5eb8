import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppConfig } from '#libs/config';
import { PiiRedactor, SECURE_DIGITS } from '#libs/redaction';
import { REDIS, RedisKeys } from '#libs/redis';
import { JobIds, QueueName, type AgentTurnJobData, type AgentTurnJobResult, type TurnReply } from './queue-names.js';
import { withTimeout } from './with-timeout.js';

/**
 * How often a waiting webhook re-reads the job, only in case its reply message was missed (the
 * subscriber was reconnecting): the reply itself arrives by pub/sub, so an answered turn never
 * waits for a poll.
 */
const POLL_MS = 500;
/** How long a reply that arrived before its waiter (a very fast turn) is kept. */
const EARLY_REPLY_MS = 30_000;

export type TurnOutcome =
  | { state: 'done'; result: AgentTurnJobResult }
  | { state: 'pending' }
  | { state: 'failed'; reason: string }
  | { state: 'missing' };

/** Producer of agent-turn jobs, and the only code that adds to that queue. */
@Injectable()
export class AgentTurnQueue implements OnModuleDestroy {
  private readonly logger = new Logger(AgentTurnQueue.name);
  /** This process's reply channel: workers publish the end of the turns it enqueued there. */
  private readonly replyChannel = RedisKeys.turnReplyChannel(randomUUID());
  private readonly waiters = new Map<string, (outcome: TurnOutcome) => void>();
  private readonly early = new Map<string, { outcome: TurnOutcome; at: number }>();
  private replies?: Redis;
  private subscribed?: Promise<void>;

  constructor(
    @InjectQueue(QueueName.AgentTurns) private readonly queue: Queue<AgentTurnJobData, AgentTurnJobResult>,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
    private readonly redactor: PiiRedactor,
  ) {
    queue.on('error', (err) => this.logger.warn({ err: err.message }, 'queue connection error'));
  }

  /**
   * One subscription per process, made on the first enqueue (only processes that enqueue turns
   * need replies): no subscribe round trip per turn.
   */
  private listen(): Promise<void> {
    if (this.subscribed) return this.subscribed;
    const connection = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    connection.on('error', (err) => this.logger.warn({ err: err.message }, 'turn replies connection error'));
    connection.on('message', (_channel: string, message: string) => this.onReply(message));
    this.replies = connection;
    this.subscribed = withTimeout(connection.subscribe(this.replyChannel).then(() => undefined), 1000, 'subscribe to turn replies').catch((err: Error) => {
      // Not fatal: waiters fall back to polling until the (auto-resubscribing) connection is up.
      this.logger.warn({ err: err.message }, 'turn replies not subscribed yet');
    });
    return this.subscribed;
  }

  private onReply(message: string): void {
    let reply: TurnReply;
    try {
      reply = JSON.parse(message) as TurnReply;
    } catch {
      return;
    }
    const outcome: TurnOutcome = reply.type === 'done' ? { state: 'done', result: reply.result } : { state: 'failed', reason: reply.reason };
    const waiter = this.waiters.get(reply.jobId);
    if (waiter) return waiter(outcome);
    const now = Date.now();
    for (const [id, item] of this.early) {
      if (now - item.at < EARLY_REPLY_MS) break; // insertion order: the rest are younger
      this.early.delete(id);
    }
    this.early.set(reply.jobId, { outcome, at: now });
  }

  /**
   * Enqueues the turn. The job id is derived from call and step, so a retried webhook that
   * enqueues the same turn again adds nothing.
   */
  async enqueue(data: AgentTurnJobData): Promise<string> {
    const jobId = JobIds.agentTurn(data.callSid, data.step);
    await this.listen();
    data = this.redactForModel(data);
    await withTimeout(
      this.queue.add('turn', { ...data, replyTo: this.replyChannel }, {
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

  /**
   * Waits at most `ms` for the turn's result; never throws. The worker publishes the turn's end
   * on this process's reply channel, which answers the wait the moment it is published. A slow
   * poll of the job covers a reply that was missed (the subscriber was reconnecting), so a
   * finished turn is never mistaken for a slow one. `readFirst` reads the job before waiting:
   * for a turn enqueued earlier, possibly by another api process (whose channel got the reply).
   */
  async waitFor(jobId: string, ms: number, options: { readFirst?: boolean } = {}): Promise<TurnOutcome> {
    const early = this.early.get(jobId);
    if (early) {
      this.early.delete(jobId);
      return early.outcome;
    }
    if (this.waiters.has(jobId)) return this.poll(jobId); // a second wait on one turn: no reply to share
    if (options.readFirst) {
      const now = await this.poll(jobId);
      if (now.state !== 'pending') return now;
    }
    const deadline = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<TurnOutcome>((resolve) => {
        let settled = false;
        const settle = (outcome: TurnOutcome) => {
          if (settled) return;
          settled = true;
          resolve(outcome);
        };
        this.waiters.set(jobId, settle);
        const tick = async () => {
          const left = deadline - Date.now();
          if (left <= 0) return settle(await this.poll(jobId));
          if (left < POLL_MS) {
            timer = setTimeout(() => void tick(), left);
            return;
          }
          timer = setTimeout(async () => {
            const outcome = await this.poll(jobId);
            if (outcome.state !== 'pending') return settle(outcome);
            void tick();
          }, POLL_MS);
        };
        void tick();
      });
    } finally {
      clearTimeout(timer);
      this.waiters.delete(jobId);
    }
  }

  /** The job's state read once: `missing` when it does not exist, `pending` when Redis does not answer. */
  private async poll(jobId: string): Promise<TurnOutcome> {
    const job = await withTimeout(Job.fromId<AgentTurnJobData, AgentTurnJobResult>(this.queue, jobId), 500, 'poll job').catch(() => undefined);
    if (job === undefined) return { state: 'pending' };
    if (job === null) return { state: 'missing' };
    return outcomeOf(job);
  }

  /**
   * Asks the worker running the turn to abort it, and drops the job if no worker has taken it
   * yet. A job that ran keeps its record (as failed, "cancelled") until the call is forgotten.
   */
  async cancel(jobId: string): Promise<void> {
    await this.redis.publish(RedisKeys.cancelChannel(), jobId).catch(() => undefined);
    const state = await withTimeout(this.queue.getJobState(jobId), 500, 'job state').catch(() => 'unknown');
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      await withTimeout(this.queue.remove(jobId), 500, 'remove job').catch(() => undefined);
    }
  }

  /** Removes finished jobs of a call, so no key of an ended call stays in Redis. */
  async forget(callSid: string, steps: number): Promise<void> {
    const ids = Array.from({ length: steps + 1 }, (_, step) => JobIds.agentTurn(callSid, step));
    await Promise.all(ids.map((id) => this.queue.remove(id).catch(() => 0)));
  }

  async onModuleDestroy(): Promise<void> {
    await this.replies?.quit().catch(() => this.replies?.disconnect());
  }

  /**
   * The job (kept in Redis) and the model's prompt see the caller's words redacted; keypad input
   * of a secure step is not even passed on — the agent hears that digits were entered.
   */
  private redactForModel(data: AgentTurnJobData): AgentTurnJobData {
    const input =
      data.input.kind === 'dtmf' && data.state.secure
        ? { ...data.input, text: SECURE_DIGITS }
        : { ...data.input, text: this.redactor.text(data.input.text).text };
    return { ...data, input, history: this.redactor.history(data.history) };
  }
}

function outcomeOf(job: Job<AgentTurnJobData, AgentTurnJobResult>): TurnOutcome {
  if (!job.finishedOn) return { state: 'pending' };
  if (job.failedReason) return { state: 'failed', reason: job.failedReason };
  return { state: 'done', result: job.returnvalue };
}
