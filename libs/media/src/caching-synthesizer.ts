import type { SpeechSynthesizer, SynthesisVoice } from './speech.types.js';

export interface SynthesisCacheOptions {
  /** Audio kept, in bytes of μ-law (8 KB per second): least recently used sentences go first. */
  maxBytes: number;
  /** Longest sentence cached (longer answers are rarely said twice). */
  maxTextLength?: number;
}

interface InFlight {
  audio: Promise<Buffer>;
  controller: AbortController;
  waiters: number;
}

/** Cache statistics (tests, benchmarks). */
export interface SynthesisCacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

/**
 * Synthesises each distinct sentence once: an LRU of finished audio bounded in bytes, in front
 * of any SpeechSynthesizer. Greetings, reprompts, fillers, department welcomes and goodbyes are
 * the same sentences on every call; `warm()` fills the cache with them at start-up, so the
 * first audio of such an answer leaves without a synthesis at all. Concurrent requests for the
 * same sentence share one synthesis, which is aborted only when every requester has given up.
 */
export class CachingSynthesizer implements SpeechSynthesizer {
  readonly name: string;
  private readonly entries = new Map<string, Buffer>();
  private readonly inFlight = new Map<string, InFlight>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly inner: SpeechSynthesizer,
    private readonly options: SynthesisCacheOptions,
  ) {
    this.name = inner.name;
  }

  async synthesize(text: string, voice: SynthesisVoice, signal: AbortSignal): Promise<Buffer> {
    signal.throwIfAborted();
    const maxText = this.options.maxTextLength ?? 300;
    if (text.length > maxText) return this.inner.synthesize(text, voice, signal);
    const key = `${voice.language}\u0000${voice.voice ?? ''}\u0000${text}`;
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      // Map order is the recency order: move to the newest end.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    this.misses++;
    let flight = this.inFlight.get(key);
    if (!flight) {
      const controller = new AbortController();
      const started: InFlight = { controller, waiters: 0, audio: this.inner.synthesize(text, voice, controller.signal) };
      flight = started;
      this.inFlight.set(key, started);
      started.audio.then(
        (audio) => {
          if (this.inFlight.get(key) === started) this.inFlight.delete(key);
          this.store(key, audio);
        },
        () => {
          if (this.inFlight.get(key) === started) this.inFlight.delete(key);
        },
      );
    }
    return this.wait(key, flight, signal);
  }

  /** Synthesises `sentences` now (those not cached yet), a few at a time. Failures are returned, not thrown. */
  async warm(sentences: Iterable<string>, voice: SynthesisVoice, signal: AbortSignal, concurrency = 2): Promise<{ warmed: number; failed: number }> {
    const todo = [...new Set(sentences)];
    let warmed = 0;
    let failed = 0;
    const worker = async () => {
      for (let text = todo.shift(); text !== undefined && !signal.aborted; text = todo.shift()) {
        try {
          await this.synthesize(text, voice, signal);
          warmed++;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { warmed, failed };
  }

  stats(): SynthesisCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size, bytes: this.bytes };
  }

  private wait(key: string, flight: InFlight, signal: AbortSignal): Promise<Buffer> {
    flight.waiters++;
    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = () => {
        flight.waiters--;
        // Nobody wants it any more: stop the child process (the contract of every synthesizer).
        if (flight.waiters === 0) {
          flight.controller.abort(signal.reason);
          if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
        }
        reject(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.audio.then(
        (audio) => {
          signal.removeEventListener('abort', onAbort);
          if (!signal.aborted) resolve(audio);
        },
        (err: Error) => {
          signal.removeEventListener('abort', onAbort);
          if (!signal.aborted) reject(err);
        },
      );
    });
  }

  private store(key: string, audio: Buffer): void {
    if (!audio.length || audio.length > this.options.maxBytes || this.entries.has(key)) return;
    this.entries.set(key, audio);
    this.bytes += audio.length;
    for (const [oldest, buffer] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= buffer.length;
    }
  }
}
