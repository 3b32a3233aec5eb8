import { HttpException, HttpStatus, Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { AppConfig } from '#libs/config';
import { REDIS, RedisKeys } from '#libs/redis';
import type { AuthenticatedRequest } from './principal.js';

/**
 * Per-key request budget on the admin API: a fixed window counter in Redis, shared by every
 * api instance. Runs after ApiKeyGuard (it counts per key). Only admin controllers use it:
 * a 429 on a Twilio webhook would end a live call.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger(RateLimitGuard.name);

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const keyId = http.getRequest<AuthenticatedRequest>().principal?.keyId;
    if (!keyId) return true; // ApiKeyGuard has already refused unauthenticated requests
    const limit = this.config.ADMIN_RATE_LIMIT;
    const windowMs = this.config.ADMIN_RATE_WINDOW_SECONDS * 1000;
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const key = RedisKeys.adminRateLimit(keyId, window);
    let count: number;
    try {
      const results = await this.redis.multi().incr(key).pexpire(key, windowMs + 1000).exec();
      count = Number(results?.[0]?.[1]);
    } catch (err) {
      // Fail open: operators keep their API while Redis is down; the budget protects Postgres, not secrets.
      this.logger.warn({ err: (err as Error).message }, 'rate limit unavailable; request allowed');
      return true;
    }
    const res = http.getResponse<Response>();
    res.setHeader('RateLimit-Limit', String(limit));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, limit - count)));
    if (count <= limit) return true;
    const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
    res.setHeader('Retry-After', String(retryAfter));
    throw new HttpException({ statusCode: 429, message: `rate limit of ${limit} requests per ${windowMs / 1000} s exceeded` }, HttpStatus.TOO_MANY_REQUESTS);
  }
}
