import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '#libs/config';
import { PiiRedactor } from '#libs/redaction';
import { REDIS, RedisKeys } from '#libs/redis';
import type { CallSession } from './call-session.js';

/** What a webhook sees of its call once it holds the lock, read in the same round trip. */
export interface CallSnapshot {
  session: CallSession | null;
  /** The reply already given to this webhook (a retry or a duplicate), if asked for. */
  reply: string | null;
}

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
    private readonly redactor: PiiRedactor,
  ) {}

  async get(callSid: string): Promise<CallSession | null> {
    const raw = await this.redis.get(RedisKeys.session(callSid));
    return raw ? (JSON.parse(raw) as CallSession) : null;
  }

  async save(session: CallSession): Promise<void> {
    await this.redis.set(RedisKeys.session(session.callSid), this.serialize(session), 'EX', this.ttl);
  }

  /**
   * Saves the session and the reply given to webhook `replyId` together (one round trip,
   * atomic). A new call also joins the live-call index (GET /admin/live).
   */
  async commit(session: CallSession, replyId: number | string, twiml: string, options: { isNew?: boolean } = {}): Promise<void> {
    const replies = RedisKeys.replies(session.callSid);
    const multi = this.redis
      .multi()
      .hset(replies, String(replyId), twiml)
      .expire(replies, this.ttl)
      .set(RedisKeys.session(session.callSid), this.serialize(session), 'EX', this.ttl);
    if (options.isNew) multi.zadd(RedisKeys.liveCalls(), Date.parse(session.startedAt) || Date.now(), session.callSid);
    const results = await multi.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('session commit was discarded');
  }

  getReply(callSid: string, replyId: number | string): Promise<string | null> {
    return this.redis.hget(RedisKeys.replies(callSid), String(replyId));
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
   * Runs `fn` holding the call's lock, so two webhooks of one call never interleave. The
   * session (and the cached reply `replyId`, when given) are read in the lock's round trip:
   * Redis runs the pipeline in order, so what was read is what the lock holder owns.
   * Waits at most `waitMs` for the lock; the lock expires by itself if its holder dies.
   */
  async withLock<T>(
    callSid: string,
    fn: (snapshot: CallSnapshot) => Promise<T>,
    options: { replyId?: number | string; waitMs?: number; holdMs?: number } = {},
  ): Promise<T> {
    const { replyId, waitMs = 5000, holdMs = 15_000 } = options;
    const key = RedisKeys.lock(callSid);
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const pipeline = this.redis.pipeline().set(key, token, 'PX', holdMs, 'NX').get(RedisKeys.session(callSid));
      if (replyId !== undefined) pipeline.hget(RedisKeys.replies(callSid), String(replyId));
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('lock pipeline was discarded');
      if (results[0][1] === 'OK') {
        const raw = results[1][1] as string | null;
        const snapshot = { session: raw ? (JSON.parse(raw) as CallSession) : null, reply: (results[2]?.[1] as string | null) ?? null };
        try {
          return await fn(snapshot);
        } finally {
          await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
        }
      }
      if (Date.now() > deadline) throw new CallBusyError(`call ${callSid} is busy`);
      await sleep(20);
    }
  }

  /** The session as stored: caller words in its history and running summary redacted. */
  private serialize(session: CallSession): string {
    if (!this.redactor.enabled) return JSON.stringify(session);
    const summary = session.agent.summary;
    return JSON.stringify({
      ...session,
      history: this.redactor.history(session.history),
      agent: summary ? { ...session.agent, summary: this.redactor.text(summary).text } : session.agent,
    });
  }

  private get ttl(): number {
    return this.config.CALL_SESSION_TTL_SECONDS;
  }
}
