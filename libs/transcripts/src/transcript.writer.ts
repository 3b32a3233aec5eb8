import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { MetricsService } from '#libs/metrics';
import { TranscriptStream, withTimeout, type TranscriptJobData } from '#libs/queues';
import { PiiRedactor } from '#libs/redaction';
import { redactBatch } from './redact-batch.js';
import { TranscriptStore } from './transcript.store.js';

interface Spooled {
  jobId: string;
  batch: TranscriptJobData;
}

/** Most batches a process keeps in memory while both Redis and Postgres are unreachable. */
const SPOOL_LIMIT = 20_000;

/**
 * The api's way to make a transcript write durable without ever blocking a caller on it.
 * Normal path: one entry on the transcript stream (workers write it in batches and acknowledge
 * it only after commit; the gather flow appends it inside its session commit instead).
 * Redis down: write to Postgres directly. Both down: keep it in a bounded in-memory spool,
 * flushed every second. Every write is keyed, so a write that lands twice is stored once.
 */
@Injectable()
export class TranscriptWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TranscriptWriter.name);
  private readonly spool: Spooled[] = [];
  private dropped = 0;
  private queueDownUntil = 0;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly stream: TranscriptStream,
    private readonly store: TranscriptStore,
    private readonly redactor: PiiRedactor,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
  }

  /** Makes the write durable (queued, stored, or spooled); resolves within about 0.5 s. */
  async write(jobId: string, batch: TranscriptJobData): Promise<void> {
    // Every turn of every mode passes here first: the words are redacted before they reach the
    // queue (Redis), the spool or Postgres, so the original is never written anywhere.
    batch = redactBatch(batch, this.redactor);
    this.metrics.observeCallWrite(batch); // turns, barge-ins, misses, calls: each write happens once
    if (Date.now() >= this.queueDownUntil) {
      try {
        await this.stream.append(jobId, batch);
        return;
      } catch (err) {
        this.metrics.countStoreError('redis');
        this.queueDownUntil = Date.now() + 2000;
        this.logger.warn({ err: (err as Error).message, jobId }, 'transcript stream unavailable, spooling');
      }
    }
    this.enspool({ jobId, batch });
    void this.flush();
  }

  /**
   * The write as transcript stream entry fields, redacted like `write`, for a session commit
   * that appends it in the same round trip as the webhook's reply (CallSessionStore.commit).
   */
  entry(jobId: string, batch: TranscriptJobData): string[] {
    const redacted = redactBatch(batch, this.redactor);
    this.metrics.observeCallWrite(redacted); // as in write(): every write of every path is counted once
    return TranscriptStream.fields(jobId, redacted);
  }

  get pending(): number {
    return this.spool.length;
  }

  /** Tries every spooled write once: straight into Postgres, else onto the stream. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    const items = this.spool.splice(0, this.spool.length);
    const kept: Spooled[] = [];
    for (const item of items) {
      try {
        await withTimeout(this.store.apply(item.batch), 2000, 'transcript write');
        continue;
      } catch {
        // Postgres unavailable: the stream may be back instead.
        this.metrics.countStoreError('postgres');
      }
      try {
        await this.stream.append(item.jobId, item.batch);
      } catch {
        this.metrics.countStoreError('redis');
        kept.push(item);
      }
    }
    for (const item of kept.reverse()) this.spool.unshift(item);
    if (items.length && !kept.length) this.logger.log({ written: items.length }, 'transcript spool flushed');
  }

  private enspool(item: Spooled): void {
    this.spool.push(item);
    if (this.spool.length > SPOOL_LIMIT) {
      this.spool.shift();
      this.dropped++;
      this.logger.error({ dropped: this.dropped }, 'transcript spool full: oldest write dropped');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    if (this.spool.length) await withTimeout(this.flush(), 3000, 'final spool flush').catch(() => undefined);
    if (this.spool.length) this.logger.error({ lost: this.spool.length }, 'transcript writes still spooled at shutdown');
  }
}
