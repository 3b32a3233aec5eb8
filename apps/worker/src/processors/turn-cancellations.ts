import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { TurnCancelledError } from '#libs/agents';
import { REDIS, RedisKeys } from '#libs/redis';

/**
 * How long a cancel is remembered for a job this worker has not started yet. A cancel can
 * arrive in the instant between BullMQ handing the job over and the processor starting it
 * (AgentTurnQueue.cancel's remove() fails for a job already active): the job then starts
 * already aborted instead of running unnoticed.
 */
const REMEMBER_MS = 60_000;

/**
 * The worker's end of AgentTurnQueue.cancel: one subscriber connection on the cancel channel
 * (every worker hears every cancel), an AbortController per running turn, aborted on the
 * message — a Redis pub/sub hop, well inside the 100 ms the api is promised.
 */
@Injectable()
export class TurnCancellations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TurnCancellations.name);
  private readonly running = new Map<string, AbortController>();
  private readonly recent = new Map<string, number>();
  private subscriber?: Redis;

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriber = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'cancel channel connection error'));
    this.subscriber.on('message', (_channel: string, jobId: string) => this.cancel(jobId));
    await this.subscriber.subscribe(RedisKeys.cancelChannel()).catch((err: Error) => {
      this.logger.error({ err: err.message }, 'could not subscribe to turn cancels');
    });
  }

  /** A controller for the job's run; already aborted if the job was cancelled moments ago. */
  begin(jobId: string): AbortController {
    const controller = new AbortController();
    if (this.recent.has(jobId)) controller.abort(new TurnCancelledError());
    this.running.set(jobId, controller);
    return controller;
  }

  end(jobId: string): void {
    this.running.delete(jobId);
  }

  /** Aborts the job if it runs here, else remembers the cancel for a moment (see REMEMBER_MS). */
  cancel(jobId: string): void {
    const controller = this.running.get(jobId);
    if (controller) {
      controller.abort(new TurnCancelledError());
      return;
    }
    const now = Date.now();
    this.recent.set(jobId, now + REMEMBER_MS);
    for (const [id, expires] of this.recent) if (expires < now) this.recent.delete(id);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
