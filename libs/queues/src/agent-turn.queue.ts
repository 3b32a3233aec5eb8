import { setTimeout as sleep } from 'node:timers/promises';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppConfig } from '#libs/config';
import { PiiRedactor, SECURE_DIGITS } from '#libs/redaction';
import { bullConnectionOptions, REDIS, RedisKeys } from '#libs/redis';
import { JobIds, QueueName, type AgentTurnJobData, type AgentTurnJobResult } from './queue-names.js';
import { withTimeout } from './with-timeout.js';

/** How often a waiting webhook re-reads the job, in case its completion event was missed. */
const POLL_MS = 250;

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
    private readonly redactor: PiiRedactor,
  ) {
    queue.on('error', (err) => this.logger.warn({ err: err.message }, 'queue connection error'));
  }

  /**
   * Enqueues the turn. The job id is derived from call and step, so a retried webhook that
   * enqueues the same turn again adds nothing.
   */
  async enqueue(data: AgentTurnJobData): Promise<string> {
    const jobId = JobIds.agentTurn(data.callSid, data.step);
    data = this.redactForModel(data);
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

  /**
   * Waits at most `ms` for the turn's result; never throws. The completion event normally
   * answers within a millisecond or two; a slow poll of the job's state covers an event that
   * was missed (the events connection is new, or reconnecting), so a finished turn is never
   * mistaken for a slow one.
   */
  async waitFor(jobId: string, ms: number): Promise<TurnOutcome> {
    let job: Job<AgentTurnJobData, AgentTurnJobResult> | undefined;
    try {
      job = await withTimeout(Job.fromId<AgentTurnJobData, AgentTurnJobResult>(this.queue, jobId), 500, 'load job');
    } catch {
      return { state: 'missing' }; // Redis unreachable: the caller gets the apology path
    }
    if (!job) return { state: 'missing' };
    const now = outcomeOf(job);
    if (now.state !== 'pending') return now;

    let waiting = true;
    const deadline = Date.now() + ms;
    const viaEvents = job.waitUntilFinished(this.queueEvents(), ms).then(
      (result): TurnOutcome => ({ state: 'done', result }),
      (err: Error) => this.afterWaitError(jobId, err),
    );
    const viaPolling = (async (): Promise<TurnOutcome> => {
      while (waiting && deadline - Date.now() > POLL_MS) {
        await sleep(POLL_MS);
        const polled = await withTimeout(Job.fromId<AgentTurnJobData, AgentTurnJobResult>(this.queue, jobId), 500, 'poll job').catch(() => undefined);
        const outcome: TurnOutcome = polled === undefined ? { state: 'pending' } : polled === null ? { state: 'missing' } : outcomeOf(polled);
        if (outcome.state !== 'pending') return outcome;
      }
      return viaEvents; // the events side decides at the deadline
    })();
    try {
      return await Promise.race([viaEvents, viaPolling]);
    } finally {
      waiting = false;
    }
  }

  private async afterWaitError(jobId: string, err: Error): Promise<TurnOutcome> {
    if (/timed out/.test(err.message)) return { state: 'pending' };
    const state = await withTimeout(this.queue.getJobState(jobId), 300, 'job state').catch(() => 'unknown');
    if (state === 'failed') return { state: 'failed', reason: err.message };
    if (state === 'unknown') return { state: 'missing' };
    return { state: 'pending' };
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
