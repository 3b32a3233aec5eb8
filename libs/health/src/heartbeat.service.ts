import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisKeys } from '#libs/redis';
import { HEARTBEAT_EVERY_MS, HEARTBEAT_TTL_MS } from './health.service.js';

/** Worker liveness for the api's readiness check: a timestamp per worker in a sorted set. */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly workerId = `${hostname()}-${process.pid}`;
  private readonly logger = new Logger(HeartbeatService.name);
  private timer?: NodeJS.Timeout;

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  onApplicationBootstrap(): void {
    const beat = () =>
      this.redis
        .multi()
        .zadd(RedisKeys.workerHeartbeats(), Date.now(), this.workerId)
        .zremrangebyscore(RedisKeys.workerHeartbeats(), '-inf', Date.now() - 6 * HEARTBEAT_TTL_MS)
        .exec()
        .catch((err) => this.logger.warn({ err: (err as Error).message }, 'heartbeat failed'));
    void beat();
    this.timer = setInterval(beat, HEARTBEAT_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    // Leave at once, so readiness does not count a worker that is shutting down.
    await this.redis.zrem(RedisKeys.workerHeartbeats(), this.workerId).catch(() => undefined);
  }
}
