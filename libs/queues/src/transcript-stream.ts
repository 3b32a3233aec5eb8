import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisKeys } from '#libs/redis';
import type { TranscriptJobData } from './queue-names.js';
import { withTimeout } from './with-timeout.js';

/** Consumer group of the workers on the transcript stream. */
export const TRANSCRIPT_GROUP = 'transcript-writers';

/** One accepted transcript write as read back from the stream. */
export interface TranscriptEntry {
  /** Stream entry id (`<ms>-<n>`): the order Redis accepted the writes in. */
  id: string;
  /** The write's key within its call (for logs and dead letters). */
  key: string;
  data: TranscriptJobData;
}

/**
 * The contract of the transcript write path. The api appends one entry per webhook (`fields`,
 * usually inside the session commit script, otherwise `append`); workers read it through a
 * consumer group in batches (TranscriptStreamReader) and acknowledge entries only after the
 * transaction holding them committed. Every write is idempotent in Postgres, so an entry read
 * twice (a worker died after commit, before its acknowledgement) is stored once.
 */
@Injectable()
export class TranscriptStream {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** The stream entry fields of one write: `k` its key, `w` its JSON. */
  static fields(key: string, data: TranscriptJobData): string[] {
    return ['k', key, 'w', JSON.stringify(data)];
  }

  /** Appends one write on its own (paths without a session commit); fails fast when Redis is away. */
  async append(key: string, data: TranscriptJobData): Promise<void> {
    await withTimeout(this.redis.xadd(RedisKeys.transcriptStream(), '*', ...TranscriptStream.fields(key, data)), 500, 'append transcript write');
  }

  /** Entries accepted and not yet acknowledged as written (waiting or being written). */
  async backlog(): Promise<{ length: number; pending: number }> {
    const [length, pending] = await Promise.all([
      this.redis.xlen(RedisKeys.transcriptStream()),
      this.redis.xpending(RedisKeys.transcriptStream(), TRANSCRIPT_GROUP).then((r) => Number((r as [number])[0] ?? 0)).catch(() => 0),
    ]);
    return { length, pending };
  }
}

type RawEntry = [id: string, fields: string[]];

/**
 * Worker side of the stream, on a connection of its own (reads block). `consumer` names this
 * process in the group: what it read and did not acknowledge stays pending under that name,
 * and `claimStale` lets any live worker take over the entries of one that died.
 */
export class TranscriptStreamReader {
  private readonly key = RedisKeys.transcriptStream();

  constructor(
    private readonly redis: Redis,
    readonly consumer: string,
  ) {}

  /** Creates the group (and the stream) if missing; the group starts at the stream's beginning. */
  async ensureGroup(): Promise<void> {
    await this.redis.xgroup('CREATE', this.key, TRANSCRIPT_GROUP, '0', 'MKSTREAM').catch((err: Error) => {
      if (!/BUSYGROUP/.test(err.message)) throw err;
    });
  }

  /** New entries for this consumer, waiting at most `blockMs` for the first one (0: not at all). */
  async read(count: number, blockMs: number): Promise<TranscriptEntry[]> {
    const block = blockMs > 0 ? ['BLOCK', blockMs] : [];
    const reply = (await this.redis.xreadgroup('GROUP', TRANSCRIPT_GROUP, this.consumer, 'COUNT', count, ...(block as ['BLOCK', number]), 'STREAMS', this.key, '>')) as
      | [string, RawEntry[]][]
      | null;
    return reply ? decode(reply[0][1]) : [];
  }

  /** Entries pending longer than `minIdleMs` under any consumer (a dead worker's), taken over by this one. */
  async claimStale(minIdleMs: number, count: number): Promise<TranscriptEntry[]> {
    const reply = (await this.redis.xautoclaim(this.key, TRANSCRIPT_GROUP, this.consumer, minIdleMs, '0', 'COUNT', count)) as [string, RawEntry[]];
    return decode(reply[1]);
  }

  /** Acknowledges written entries and deletes them (the stream holds only what is not yet stored). */
  async ack(ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.redis.multi().xack(this.key, TRANSCRIPT_GROUP, ...ids).xdel(this.key, ...ids).exec();
  }

  /** Moves an entry Postgres keeps rejecting on its own aside, so it cannot hold up the rest. */
  async deadLetter(entry: TranscriptEntry, error: string): Promise<void> {
    await this.redis
      .multi()
      .xadd(RedisKeys.transcriptDeadLetters(), '*', 'id', entry.id, ...TranscriptStream.fields(entry.key, entry.data), 'error', error.slice(0, 500))
      .xack(this.key, TRANSCRIPT_GROUP, entry.id)
      .xdel(this.key, entry.id)
      .exec();
  }
}

function decode(raw: RawEntry[]): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const item of raw) {
    // XAUTOCLAIM returns deleted entries as [id, null]: nothing left to write.
    if (!item || !item[1]) continue;
    const [id, fields] = item;
    const at = (name: string) => fields[fields.indexOf(name) + 1];
    let data: TranscriptJobData;
    try {
      data = JSON.parse(at('w') ?? 'null') as TranscriptJobData;
    } catch {
      data = {};
    }
    entries.push({ id, key: at('k') ?? '', data: data ?? {} });
  }
  return entries;
}
