import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { AppConfig } from '#libs/config';

export const REDIS = Symbol('REDIS');

/**
 * Options for command connections used on request paths: when Redis is down a command fails
 * at once instead of queueing, so a webhook can fall back within its budget; reconnection
 * is retried every ≤ 500 ms so readiness recovers within seconds of Redis coming back.
 */
export function redisOptions(extra: RedisOptions = {}): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
    lazyConnect: false,
    ...extra,
  };
}

/** BullMQ connection options: workers need `maxRetriesPerRequest: null` for blocking calls. */
export function bullConnectionOptions(url: string): BullRedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
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
        const redis = new Redis(config.REDIS_URL, redisOptions());
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
