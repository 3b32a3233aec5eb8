import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisKeys } from '#libs/redis';
import type { AgentTurnJobResult, TurnReply } from './queue-names.js';

/** Why a turn ended without an answer: the api cancelled it, its budget ran out, or the provider failed. */
export type TurnFailureCode = 'cancelled' | 'budget' | 'provider';

/**
 * What a worker tells the api about one turn while it runs. `attempt` counts the starts of the
 * job: after stalled-job recovery a second worker streams the turn again with a higher attempt,
 * so a consumer that already spoke some tokens can tell the restart from a continuation.
 * 'done' and 'failed' are published before the job settles: a subscriber has every event of
 * the turn by the time AgentTurnQueue.waitFor returns.
 */
export type TurnEvent =
  | { type: 'token'; text: string; attempt?: number }
  | { type: 'done'; result: AgentTurnJobResult; attempt?: number }
  | { type: 'failed'; message: string; code?: TurnFailureCode; attempt?: number };

/**
 * Worker side: publish a turn's tokens and end as they happen (Redis pub/sub, per call and turn).
 *
 * Publishes made within one turn of the event loop go out as one pipeline (one socket write)
 * instead of one write each: a model's stream delivers several tokens per network read, and
 * a turn ends with two publishes ('done' and the reply). The profile of a worker at 200
 * turns/s had ~9 % of its CPU in one socket write per token. Every message is still its own
 * PUBLISH, in the order it was published; the wait is at most until the next `setImmediate`.
 */
@Injectable()
export class TurnEventsPublisher {
  private pending: { channel: string; message: string; resolve: (receivers: number) => void }[] = [];
  private scheduled = false;

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  publish(callSid: string, step: number, event: TurnEvent): Promise<number> {
    return this.send(RedisKeys.turnChannel(callSid, step), JSON.stringify(event));
  }

  /** Tells the api process waiting for the turn (its `replyTo` channel) that the turn ended. */
  reply(replyTo: string | undefined, reply: TurnReply): Promise<number> {
    if (!replyTo) return Promise.resolve(0);
    return this.send(replyTo, JSON.stringify(reply));
  }

  /** Resolves with the number of receivers, or 0 when Redis failed (events are best effort). */
  private send(channel: string, message: string): Promise<number> {
    return new Promise((resolve) => {
      this.pending.push({ channel, message, resolve });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    if (batch.length === 1) {
      const [only] = batch;
      void this.redis.publish(only.channel, only.message).then(only.resolve, () => only.resolve(0));
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const { channel, message } of batch) pipeline.publish(channel, message);
    pipeline.exec().then(
      (results) => batch.forEach((item, i) => item.resolve(results?.[i]?.[0] ? 0 : Number(results?.[i]?.[1] ?? 0))),
      () => batch.forEach((item) => item.resolve(0)),
    );
  }
}

type Handler = (event: TurnEvent) => void;

/**
 * Api side: one subscriber connection per process, fanned out to handlers by channel.
 * Subscribe before enqueueing the turn: pub/sub does not replay what was published earlier
 * (the job's result stays available through AgentTurnQueue.waitFor).
 */
@Injectable()
export class TurnEventsSubscriber implements OnModuleDestroy {
  private readonly logger = new Logger(TurnEventsSubscriber.name);
  private readonly handlers = new Map<string, Set<Handler>>();
  private connection?: Redis;

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async subscribe(callSid: string, step: number, handler: Handler): Promise<() => Promise<void>> {
    const channel = RedisKeys.turnChannel(callSid, step);
    const connection = this.subscriberConnection();
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await connection.subscribe(channel);
    }
    set.add(handler);
    return async () => {
      const current = this.handlers.get(channel);
      current?.delete(handler);
      if (current && current.size === 0) {
        this.handlers.delete(channel);
        await connection.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  private subscriberConnection(): Redis {
    if (!this.connection) {
      this.connection = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
      this.connection.on('error', (err) => this.logger.warn({ err: err.message }, 'turn events connection error'));
      this.connection.on('message', (channel: string, message: string) => {
        const set = this.handlers.get(channel);
        if (!set) return;
        let event: TurnEvent;
        try {
          event = JSON.parse(message) as TurnEvent;
        } catch {
          return;
        }
        for (const handler of set) handler(event);
      });
    }
    return this.connection;
  }

  async onModuleDestroy(): Promise<void> {
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }
}
