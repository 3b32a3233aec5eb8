import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '#libs/config';
import { REDIS, RedisKeys } from '#libs/redis';
import type { CallSession } from './call-session.js';

/** Raised when a call's lock cannot be taken in time (another webhook of the call is stuck). */
export class CallBusyError extends Error {
  override name = 'CallBusyError';
}

// Compare-and-delete: only the holder of the lock releases it.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Live call sessions in Redis, replies cached per step, and the per-call lock. */
@Injectable()
export class CallSessionStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  async get(callSid: string): Promise<CallSession | null> {
    const raw = await this.redis.get(RedisKeys.session(callSid));
    return raw ? (JSON.parse(raw) as CallSession) : null;
  }

  async save(session: CallSession): Promise<void> {
    await this.redis.set(RedisKeys.session(session.callSid), JSON.stringify(session), 'EX', this.ttl);
  }

  /** Creates the session unless one exists; returns the session that is stored. */
  async create(session: CallSession): Promise<{ session: CallSession; created: boolean }> {
    const ok = await this.redis.set(RedisKeys.session(session.callSid), JSON.stringify(session), 'EX', this.ttl, 'NX');
    if (ok) {
      // Index of live calls for GET /admin/live; members outlive their session only until the next listing.
      await this.redis.zadd(RedisKeys.liveCalls(), Date.parse(session.startedAt) || Date.now(), session.callSid);
      return { session, created: true };
    }
    return { session: (await this.get(session.callSid)) ?? session, created: false };
  }

  async saveReply(callSid: string, step: number | string, twiml: string): Promise<void> {
    const key = RedisKeys.replies(callSid);
    await this.redis.multi().hset(key, String(step), twiml).expire(key, this.ttl).exec();
  }

  getReply(callSid: string, step: number | string): Promise<string | null> {
    return this.redis.hget(RedisKeys.replies(callSid), String(step));
  }

  /** Deletes every key of the call (session, replies, lock): a fixed set, no keyspace scan. */
  async deleteCall(callSid: string): Promise<void> {
    await this.redis.del(RedisKeys.session(callSid), RedisKeys.replies(callSid), RedisKeys.lock(callSid));
    await this.redis.zrem(RedisKeys.liveCalls(), callSid);
  }

  /**
   * Sessions of calls in progress, oldest first, at most `limit`. Members whose session expired
   * (a call whose final callback never came) are pruned from the index on the way.
   */
  async listLive(limit = 500): Promise<CallSession[]> {
    const sids = await this.redis.zrange(RedisKeys.liveCalls(), 0, limit - 1);
    if (sids.length === 0) return [];
    const raws = await this.redis.mget(sids.map((sid) => RedisKeys.session(sid)));
    const gone = sids.filter((_, i) => raws[i] === null);
    if (gone.length) await this.redis.zrem(RedisKeys.liveCalls(), ...gone);
    return raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as CallSession);
  }

  /**
   * Runs `fn` holding the call's lock, so two webhooks of one call never interleave.
   * Waits at most `waitMs` for the lock; the lock expires by itself if its holder dies.
   */
  async withLock<T>(callSid: string, fn: () => Promise<T>, waitMs = 5000, holdMs = 15_000): Promise<T> {
    const key = RedisKeys.lock(callSid);
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    while ((await this.redis.set(key, token, 'PX', holdMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new CallBusyError(`call ${callSid} is busy`);
      await sleep(20);
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }

  private get ttl(): number {
    return this.config.CALL_SESSION_TTL_SECONDS;
  }
}
