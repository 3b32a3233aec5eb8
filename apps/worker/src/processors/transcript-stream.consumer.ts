import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '#libs/config';
import { HeartbeatService } from '#libs/health';
import { MetricsService } from '#libs/metrics';
import { QueueName, TranscriptStreamReader, type TranscriptEntry } from '#libs/queues';
import { REDIS, REDIS_STALL_MS } from '#libs/redis';
import { TranscriptStore } from '#libs/transcripts';

/** How long a read waits for new writes before looking for a dead worker's entries again. */
const BLOCK_MS = 1000;
/** Failures of one entry on its own, while Postgres takes the others, before it is set aside. */
const MAX_ENTRY_FAILURES = 5;

/**
 * Drains the transcript stream into Postgres: up to TRANSCRIPT_BATCH_SIZE writes per
 * transaction, acknowledged only after commit. A worker killed between reading a batch and its
 * commit leaves the entries pending in the group; another worker (or this one restarted) claims
 * them after TRANSCRIPT_CLAIM_IDLE_MS and writes them again, which stores each turn once since
 * every write is idempotent on its natural key. Postgres down: the batch is retried with capped
 * backoff for as long as it takes; nothing is acknowledged meanwhile.
 */
@Injectable()
export class TranscriptStreamConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TranscriptStreamConsumer.name);
  private connection?: Redis;
  private loop?: Promise<void>;
  private stopping = false;
  private reading = false;
  /** Entries this worker read and could not write yet (still pending under its name). */
  private retry: TranscriptEntry[] = [];
  private readonly failures = new Map<string, number>();
  private nextClaim = 0;
  private backoffMs = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly store: TranscriptStore,
    private readonly heartbeat: HeartbeatService,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    // Blocking reads need a connection of their own that waits for Redis instead of failing fast.
    this.connection = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, socketTimeout: BLOCK_MS + REDIS_STALL_MS });
    this.connection.on('error', () => undefined); // the loop logs what matters
    const reader = new TranscriptStreamReader(this.connection, this.heartbeat.workerId);
    this.loop = this.run(reader);
  }

  private async run(reader: TranscriptStreamReader): Promise<void> {
    let grouped = false;
    /** The next batch, read while the previous one was being written (see readAhead). */
    let ahead: Promise<TranscriptEntry[]> | undefined;
    while (!this.stopping) {
      try {
        if (!grouped) {
          await reader.ensureGroup();
          grouped = true;
        }
        const entries = ahead ? await ahead : await this.next(reader);
        ahead = undefined;
        if (!entries.length) continue;
        ahead = this.readAhead(reader, entries);
        try {
          await this.write(reader, entries);
        } catch (err) {
          // What was read ahead is pending under this worker like the failed batch: retried with it.
          if (ahead) this.retry = this.retry.concat(await ahead);
          ahead = undefined;
          throw err;
        }
      } catch (err) {
        if (this.stopping) break;
        if (/NOGROUP/.test((err as Error).message)) grouped = false; // the stream was deleted (FLUSHDB): recreate
        this.backoffMs = Math.min(5000, Math.max(100, this.backoffMs * 2));
        this.logger.warn({ err: (err as Error).message, retryInMs: this.backoffMs, pending: this.retry.length }, 'transcript stream: will retry');
        await sleep(this.backoffMs);
      }
    }
    // Stopping with a batch read ahead: write it too rather than leave it to another worker's claim.
    const last = ahead ? await ahead : [];
    if (last.length) await this.write(reader, last).catch((err: Error) => this.logger.warn({ err: err.message, entries: last.length }, 'transcript batch left for another worker'));
  }

  /**
   * While a full batch is being written (a backlog), the next one is read from Redis at the same
   * time, so the worker does not wait on Redis between two Postgres transactions. Entries are
   * still acknowledged only after their own commit, and written one batch after the other, in
   * stream order. Not while retrying, and not when it is time to look for a dead worker's
   * entries (next() does that).
   */
  private readAhead(reader: TranscriptStreamReader, current: TranscriptEntry[]): Promise<TranscriptEntry[]> | undefined {
    const batch = this.config.TRANSCRIPT_BATCH_SIZE;
    if (current.length < batch || this.retry.length || this.stopping || Date.now() >= this.nextClaim) return undefined;
    // A failed read delivered nothing we know of; anything Redis did hand over stays pending and is claimed later.
    return reader.read(batch, 0).catch(() => []);
  }

  private async next(reader: TranscriptStreamReader): Promise<TranscriptEntry[]> {
    const batch = this.config.TRANSCRIPT_BATCH_SIZE;
    if (this.retry.length) {
      // Retrying: what arrived meanwhile joins the batch (up to its size), so recovery drains in bulk.
      if (this.retry.length < batch) this.retry = this.retry.concat(await reader.read(batch - this.retry.length, 0));
      return this.retry;
    }
    if (Date.now() >= this.nextClaim) {
      this.nextClaim = Date.now() + Math.min(this.config.TRANSCRIPT_CLAIM_IDLE_MS, 5000);
      const claimed = await reader.claimStale(this.config.TRANSCRIPT_CLAIM_IDLE_MS, batch);
      if (claimed.length) {
        this.logger.warn({ entries: claimed.length }, 'transcript writes of a stopped worker taken over');
        return claimed;
      }
    }
    this.reading = true;
    try {
      return await reader.read(batch, BLOCK_MS);
    } finally {
      this.reading = false;
    }
  }

  private async write(reader: TranscriptStreamReader, entries: TranscriptEntry[]): Promise<void> {
    const started = Date.now();
    try {
      await this.store.applyMany(entries.map((e) => e.data));
    } catch (err) {
      this.metrics.countStoreError('postgres');
      this.retry = await this.writeOneByOne(reader, entries, err as Error);
      if (this.retry.length) throw err;
      return;
    }
    await reader.ack(entries.map((e) => e.id));
    this.retry = [];
    this.backoffMs = 0;
    this.stored(entries, (Date.now() - started) / 1000);
  }

  /**
   * What the BullMQ path reported per write, kept for the dashboards: one completed
   * `transcripts` job per write (the batch's duration), and every turn's lag (spoken → stored).
   */
  private stored(entries: TranscriptEntry[], seconds: number): void {
    const storedAt = Date.now();
    for (const entry of entries) {
      this.metrics.observeJob(QueueName.Transcripts, 'completed', seconds);
      for (const turn of entry.data.turns ?? []) {
        const spokenAt = Date.parse(turn.endedAt ?? turn.startedAt);
        if (Number.isFinite(spokenAt)) this.metrics.observeTranscriptLag((storedAt - spokenAt) / 1000);
      }
    }
  }

  /**
   * The batch failed: Postgres is down (the first entry fails alone too: keep them all for the
   * retry), or one entry is bad (write the others, count its failures, set it aside eventually).
   */
  private async writeOneByOne(reader: TranscriptStreamReader, entries: TranscriptEntry[], batchError: Error): Promise<TranscriptEntry[]> {
    if (entries.length === 1) return this.failed(reader, entries[0], batchError, false);
    const kept: TranscriptEntry[] = [];
    let stored = 0;
    for (const [i, entry] of entries.entries()) {
      try {
        await this.store.apply(entry.data);
        await reader.ack([entry.id]);
        stored++;
      } catch (err) {
        if (i === 0) return entries; // Postgres itself is failing: retry the whole batch later
        kept.push(...(await this.failed(reader, entry, err as Error, stored > 0)));
      }
    }
    return kept;
  }

  private async failed(reader: TranscriptStreamReader, entry: TranscriptEntry, err: Error, othersStored: boolean): Promise<TranscriptEntry[]> {
    if (!othersStored) return [entry];
    const count = (this.failures.get(entry.id) ?? 0) + 1;
    this.failures.set(entry.id, count);
    if (count < MAX_ENTRY_FAILURES) return [entry];
    this.failures.delete(entry.id);
    this.logger.error({ entryId: entry.id, key: entry.key, err: err.message }, 'transcript write rejected repeatedly: moved to the dead-letter stream');
    await reader.deadLetter(entry, err.message);
    return [];
  }

  /** Finishes the batch in hand (written and acknowledged), then stops reading. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    // A blocked read holds nothing: cut it short instead of waiting out BLOCK_MS.
    if (this.reading) this.connection?.disconnect();
    await this.loop;
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }
}
