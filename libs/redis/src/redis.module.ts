import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { AppConfig } from '#libs/config';
import { parseRedisUrl } from './redis-url.js';

export const REDIS = Symbol('REDIS');

/**
 * ioredis reconnects to a sentinel-named master when the old one answers READONLY (it became a
 * replica after a failover): drop the connection and resolve the master again.
 */
const reconnectOnReadonly = (err: Error): boolean | 1 | 2 => (/READONLY/.test(err.message) ? 2 : false);

/** Connect, command and socket timeout of request-path connections. */
export const REDIS_STALL_MS = 2000;

/**
 * The longest a BullMQ worker's blocking command waits (BZPOPMIN is capped at 10 s) plus a
 * margin: the socket timeout of connections that block.
 */
const BULL_BLOCKING_SOCKET_TIMEOUT_MS = 15_000;

/**
 * Options for command connections used on request paths: when Redis is down a command fails
 * at once instead of queueing, so a webhook can fall back within its budget; reconnection
 * is retried every ≤ 500 ms so readiness recovers within seconds of Redis coming back.
 *
 * `socketTimeout`: ioredis reconnects only when the socket closes, so a Redis that stops
 * answering with the connection open (a stuck server, a black-holed path) would leave the
 * client stalled for good — `commandTimeout` fails each command but keeps the dead socket. A
 * socket that receives nothing for this long while a command waits is dropped and reconnected.
 */
export function redisOptions(extra: RedisOptions = {}): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: REDIS_STALL_MS,
    commandTimeout: REDIS_STALL_MS,
    socketTimeout: REDIS_STALL_MS,
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
    sentinelRetryStrategy: (attempt) => Math.min(50 * attempt, 500),
    reconnectOnError: reconnectOnReadonly,
    lazyConnect: false,
    ...extra,
  };
}

/**
 * BullMQ connection options: workers need `maxRetriesPerRequest: null` for blocking calls.
 * A Sentinel URL gives `sentinels` + `name`: ioredis then asks the sentinels for the master on
 * every (re)connect, so a failover is a reconnect, not a restart. A stalled socket is dropped
 * (see `redisOptions`): after 2 s in a process that only produces jobs, after the longest
 * blocking wait in one that runs workers.
 */
export function bullConnectionOptions(url: string, { blocking = false }: { blocking?: boolean } = {}): BullRedisOptions {
  return {
    ...parseRedisUrl(url),
    maxRetriesPerRequest: null,
    connectTimeout: REDIS_STALL_MS,
    socketTimeout: blocking ? BULL_BLOCKING_SOCKET_TIMEOUT_MS : REDIS_STALL_MS,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
    sentinelRetryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
    reconnectOnError: reconnectOnReadonly,
  };
}


@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // Runs after BullMQ workers closed (they are closed in onModuleDestroy).
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => {
        const redis = new Redis({ ...parseRedisUrl(config.REDIS_URL), ...redisOptions() });
        redis.on('error', () => undefined); // surfaced through health checks, not as crashes
        // Commands fail fast while disconnected (no offline queue): give the first connection a
        // moment, so the first webhook after start does not fail. A Redis that is down at start
        // does not block start-up: the app starts not ready and connects when Redis comes.
        await Promise.race([once(redis, 'ready'), sleep(2000)]).catch(() => undefined);
        return redis;
      },
    },
    RedisLifecycle,
  ],
  exports: [REDIS],
})
export class RedisModule {}
