import type { Logger } from '@nestjs/common';
import type { CallSession } from '#libs/sessions';
import type { CallRecorder, CallWrite } from '../../twilio/call-recorder.js';

/** What the writes of a realtime call need from the app. */
export interface RealtimeWritesDeps {
  recorder: CallRecorder;
  persist(session: CallSession): Promise<void>;
}

/**
 * The transcript and event writes of one realtime call. Everything written in one turn of the
 * event loop (a barge-in's cut turn, its event and the turns it releases) goes out as one keyed
 * transcript job and one session save, not three; session saves asked for while one runs are
 * folded into one more.
 */
export class RealtimeWrites {
  private batch?: CallWrite;
  private readonly pending = new Set<Promise<void>>();
  private persisting?: Promise<void>;
  private persistAgain = false;
  private keyCounter = 0;
  private readonly commitSoon = () => this.commit();

  constructor(
    private readonly deps: RealtimeWritesDeps,
    private readonly session: CallSession,
    private readonly streamSid: string,
    private readonly logger: Logger,
  ) {}

  /** A number for an idempotency key, unique within the stream. */
  nextKey(): number {
    return ++this.keyCounter;
  }

  /** The write being gathered in this turn of the event loop (committed in a microtask). */
  get write(): CallWrite {
    if (!this.batch) {
      this.batch = this.deps.recorder.begin(this.session);
      queueMicrotask(this.commitSoon);
    }
    return this.batch;
  }

  /** A call event, keyed so a retried job stores it once. */
  event(type: string, data: Record<string, unknown>): void {
    this.write.event(type, `rt:${type}:${this.streamSid}:${this.nextKey()}`, data);
  }

  /** Sends what was gathered now (the call is ending). */
  commit(): void {
    const write = this.batch;
    this.batch = undefined;
    if (!write || (!write.turns.length && !write.events.length)) return;
    const first = write.turns[0]?.seq;
    const key = first !== undefined ? `turns-${first}` : `ev-${this.streamSid}-${this.nextKey()}`;
    const done = this.deps.recorder
      .commit(this.session, `rt-${key}`, write)
      .then(() => this.persistSession())
      .catch((err: Error) => this.logger.error({ callSid: this.session.callSid, err: err.message }, 'transcript write failed'))
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /** Resolves once every write started so far has finished (or failed, which is logged). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private persistSession(): Promise<void> {
    if (this.persisting) {
      this.persistAgain = true;
      return this.persisting;
    }
    const run = async () => {
      do {
        this.persistAgain = false;
        await this.deps.persist(this.session);
      } while (this.persistAgain);
    };
    this.persisting = run().finally(() => (this.persisting = undefined));
    return this.persisting;
  }
}
