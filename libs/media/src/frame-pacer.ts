import { BoundedQueue } from './bounded-queue.js';
import { MULAW_SILENCE } from './mulaw.js';

/** 20 ms of 8 kHz μ-law. */
export const FRAME_BYTES = 160;
export const FRAME_MS = 20;

/** Where a pacer's output goes (the call's socket). */
export interface PacerSink {
  sendMedia(frame: Buffer): void;
  sendMark(name: string): void;
}

export interface PacerOptions {
  /** How far ahead of real-time playback audio may be sent (ms). Twilio buffers whatever we send. */
  leadMs: number;
  /** Bound of the outbound queue, in frames; the oldest audio is dropped (and counted) beyond it. */
  maxQueuedFrames: number;
  now?: () => number;
}

type Item = Buffer | { mark: string };

/**
 * Sends one call's outbound audio in 20 ms frames at real-time pace with a small lead, with
 * marks in line. Pacing (instead of sending a whole answer at once) keeps Twilio's buffer
 * short, so a `clear` silences the agent at once and echoed marks say what was really heard.
 */
export class FramePacer {
  private readonly queue: BoundedQueue<Item>;
  /** Wall time (ms) at which everything sent so far will have been played. */
  private playheadAt = 0;
  private remainder?: Buffer;
  /** Audio sent to the socket so far, in ms. */
  sentMs = 0;
  private readonly now: () => number;

  constructor(
    private readonly sink: PacerSink,
    private readonly options: PacerOptions,
    private readonly clock: PacingClock = PacingClock.shared,
  ) {
    this.queue = new BoundedQueue(options.maxQueuedFrames);
    this.now = options.now ?? (() => performance.now());
  }

  /** Frames dropped because the queue was full. */
  get dropped(): number {
    return this.queue.dropped;
  }

  /** Nothing left to send (Twilio may still be playing what was sent: see `bufferedMs`). */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** Audio sent but not yet played, by our clock. */
  get bufferedMs(): number {
    return Math.max(0, this.playheadAt - this.now());
  }

  /** Queues μ-law audio of any length; it is cut into 20 ms frames (the last one padded with silence at `endOfUtterance`). */
  enqueueAudio(audio: Buffer): void {
    let data = this.remainder ? Buffer.concat([this.remainder, audio]) : audio;
    this.remainder = undefined;
    let offset = 0;
    for (; offset + FRAME_BYTES <= data.length; offset += FRAME_BYTES) this.queue.push(data.subarray(offset, offset + FRAME_BYTES));
    if (offset < data.length) this.remainder = Buffer.from(data.subarray(offset));
    data = Buffer.alloc(0);
    this.clock.add(this);
  }

  /** Queues a mark after the audio queued so far (padding a partial frame with silence first). */
  enqueueMark(name: string): void {
    if (this.remainder) {
      const frame = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);
      this.remainder.copy(frame);
      this.remainder = undefined;
      this.queue.push(frame);
    }
    this.queue.push({ mark: name });
    this.clock.add(this);
  }

  /** Drops everything not yet sent; returns the number of frames dropped. */
  clear(): number {
    this.remainder = undefined;
    let frames = 0;
    for (const item of this.queue.toArray()) if (Buffer.isBuffer(item)) frames++;
    this.queue.clear();
    this.playheadAt = 0;
    this.clock.remove(this);
    return frames;
  }

  /** Sends what the lead allows. Called by the clock; returns false once the queue is empty. */
  tick(): boolean {
    const now = this.now();
    if (this.playheadAt < now) this.playheadAt = now; // behind (or idle): restart the clock instead of bursting
    while (this.queue.length && this.playheadAt - now < this.options.leadMs) {
      const item = this.queue.shift()!;
      if (Buffer.isBuffer(item)) {
        this.sink.sendMedia(item);
        this.playheadAt += FRAME_MS;
        this.sentMs += FRAME_MS;
      } else {
        this.sink.sendMark(item.mark);
      }
    }
    // Marks right after the last frame go out at once.
    while (this.queue.length && !Buffer.isBuffer(this.queue.peek())) this.sink.sendMark((this.queue.shift() as { mark: string }).mark);
    return this.queue.length > 0;
  }

  /** Stops pacing for good (the call ended). */
  dispose(): void {
    this.clear();
  }
}

/**
 * One timer for every pacer of the process (instead of one per call): it runs only while some
 * call has audio queued, and never keeps the process alive.
 */
export class PacingClock {
  static readonly shared = new PacingClock(10);
  private readonly active = new Set<FramePacer>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly tickMs: number) {}

  get size(): number {
    return this.active.size;
  }

  add(pacer: FramePacer): void {
    if (this.active.has(pacer)) return;
    this.active.add(pacer);
    // First tick now: the first frame of an answer should not wait for the next interval.
    if (!pacer.tick()) {
      this.active.delete(pacer);
      return;
    }
    if (!this.timer) {
      this.timer = setInterval(() => this.run(), this.tickMs);
      this.timer.unref();
    }
  }

  remove(pacer: FramePacer): void {
    this.active.delete(pacer);
    if (this.active.size === 0) this.stop();
  }

  private run(): void {
    for (const pacer of this.active) {
      try {
        if (!pacer.tick()) this.active.delete(pacer);
      } catch {
        this.active.delete(pacer); // a sink that throws (socket gone) stops only its own call
      }
    }
    if (this.active.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
