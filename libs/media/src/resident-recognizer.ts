import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GrammarFiles, grammarKey } from './grammar-files.js';
import { mulawLevelDb, mulawToPcm16 } from './mulaw.js';
import { BatchProcess, type BatchHypothesis } from './pocketsphinx-batch.js';
import { SpeechProviderError, type RecognitionContext, type RecognitionOptions, type SpeechGrammar, type SpeechRecognizer, type Transcript } from './speech.types.js';
import { upsample2xSinc } from './wav.js';

/**
 * Decoder settings chosen by measurement (bench/media-intents.bench.ts, docs/BENCHMARKS.md):
 * on the phrase set they keep the intent accuracy of unbounded beams at a fraction of the CPU.
 * `-lw 10` weighs the grammar's paths more than pocketsphinx's 6.5 (fewer topic-word swaps);
 * noise removal hurt on 8 kHz audio.
 */
export const DECODER_SETTINGS: readonly string[] = ['-beam', '1e-60', '-pbeam', '1e-60', '-wbeam', '1e-40', '-maxhmmpf', '3000', '-lw', '10', '-remove_noise', 'no'];

/** Audio kept around the loud part of an utterance (ms): soft first and last consonants survive. */
const KEEP_BEFORE_MS = 400;
const KEEP_AFTER_MS = 300;
/** A 20 ms frame this far below the utterance's loudest frame counts as silence for trimming. */
const TRIM_BELOW_PEAK_DB = 40;

/**
 * The utterance without the silence around it. The stream pipeline hands over its pre-roll and
 * the whole end-of-turn silence (600 ms); decoding silence costs as much CPU as speech, and CPU
 * is what twenty concurrent callers queue for.
 */
export function trimSilence(mulaw: Buffer): Buffer {
  const frames = Math.floor(mulaw.length / 160);
  if (frames < 3) return mulaw;
  const levels = Array.from({ length: frames }, (_, i) => mulawLevelDb(mulaw.subarray(i * 160, (i + 1) * 160)));
  const floor = Math.max(...levels) - TRIM_BELOW_PEAK_DB;
  const first = levels.findIndex((l) => l >= floor);
  let last = frames - 1;
  while (last > first && levels[last] < floor) last--;
  const start = Math.max(0, first * 160 - KEEP_BEFORE_MS * 8);
  const end = Math.min(mulaw.length, (last + 1) * 160 + KEEP_AFTER_MS * 8);
  return mulaw.subarray(start, end);
}

/** Confidence reported for a grammar match (the batch decoder's score is not a probability). */
const MATCH_CONFIDENCE = 0.85;

export interface ResidentPocketsphinxOptions {
  /** pocketsphinx_batch binary (pocketsphinx 0.8). */
  binary: string;
  /** Pronunciation dictionary of the acoustic model (grammar words are checked against it). */
  dictionary: string;
  /** Resident decoder processes per grammar (each holds the model, ~32 MB, and one CPU while decoding). */
  poolSize: number;
  /** Utterances that may wait for a free decoder; beyond that a recognition fails at once. */
  maxQueue: number;
  /** Longest decode of one utterance; past it the process is killed (the queue in front is bounded by `maxQueue`). */
  timeoutMs: number;
  /** Decoder arguments (default DECODER_SETTINGS). */
  decoder?: readonly string[];
  /** Distinct grammars kept resident; the least recently used idle pool is stopped beyond it. */
  maxGrammars?: number;
}

interface Job {
  id: string;
  resolve(h: BatchHypothesis): void;
  reject(err: Error): void;
  /** The caller gave up (abort or deadline): the result is dropped, the decoder still finishes it. */
  settled: boolean;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
  signal: AbortSignal;
  worker?: Worker;
  /** Work that may be thrown away: it waits behind every committed utterance. */
  speculative: boolean;
}

interface Worker {
  process?: BatchProcess;
  job?: Job;
}

/** Observable state of the recogniser (tests, benchmarks, health). */
export interface RecognizerStats {
  grammars: number;
  processes: number;
  busy: number;
  queued: number;
  restarts: number;
  rejected: number;
  /** Process ids of the running decoders. */
  pids: number[];
}

/** One grammar's decoders and the queue in front of them. */
class DecoderPool {
  private readonly workers: Worker[];
  private readonly queue: Job[] = [];
  lastUsed = Date.now();
  restarts = 0;
  rejected = 0;
  private nameCounter = 0;
  private disposed = false;

  constructor(
    readonly key: string,
    private readonly jsgf: string,
    private readonly folder: string,
    private readonly options: ResidentPocketsphinxOptions,
  ) {
    this.workers = Array.from({ length: options.poolSize }, () => ({}));
  }

  /** Utterances decoding (aborted ones included: their decoder is still busy) or waiting. */
  get load(): number {
    return this.queue.length + this.workers.filter((w) => w.job).length;
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.workers.every((w) => !w.job);
  }

  stats(): Pick<RecognizerStats, 'processes' | 'busy' | 'queued' | 'pids'> {
    const alive = this.workers.filter((w) => w.process?.alive);
    return {
      pids: alive.map((w) => w.process!.pid).filter((pid): pid is number => pid !== undefined),
      processes: alive.length,
      busy: this.workers.filter((w) => w.job).length,
      queued: this.queue.length,
    };
  }

  /** Starts every decoder now, so the first caller does not wait for the model to load. */
  async warm(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.ensureProcess(w)));
  }

  /** Speculative utterances waiting (they yield to committed ones). */
  get speculativeQueued(): number {
    return this.queue.filter((j) => j.speculative).length;
  }

  decode(id: string, signal: AbortSignal, speculative = false): Promise<BatchHypothesis> {
    this.lastUsed = Date.now();
    if (this.disposed) return Promise.reject(new SpeechProviderError('recogniser is shut down'));
    const free = this.workers.some((w) => !w.job);
    if (!free && this.queue.length >= this.options.maxQueue) {
      this.rejected++;
      return Promise.reject(new SpeechProviderError(`recogniser busy: ${this.queue.length} utterances already waiting`));
    }
    return new Promise((resolve, reject) => {
      const job: Job = {
        id, signal, settled: false, speculative,
        resolve: (h) => this.settle(job, () => resolve(h)),
        reject: (err) => this.settle(job, () => reject(err)),
      };
      job.onAbort = () => {
        const reason = signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
        this.dequeue(job);
        job.reject(reason);
      };
      signal.addEventListener('abort', job.onAbort, { once: true });
      // Committed utterances go ahead of every speculative one: a turn that may be thrown away
      // never makes a caller whose turn has ended wait longer.
      const firstSpeculative = speculative ? -1 : this.queue.findIndex((j) => j.speculative);
      if (firstSpeculative < 0) this.queue.push(job);
      else this.queue.splice(firstSpeculative, 0, job);
      this.dispatch();
    });
  }

  /** Stops every decoder and fails every waiting utterance. */
  dispose(): void {
    this.disposed = true;
    for (const job of this.queue.splice(0)) job.reject(new SpeechProviderError('recogniser is shut down'));
    for (const w of this.workers) {
      w.job?.reject(new SpeechProviderError('recogniser is shut down'));
      w.process?.kill();
    }
  }

  private settle(job: Job, deliver: () => void): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort) job.signal.removeEventListener('abort', job.onAbort);
    if (!job.worker) clearTimeout(job.timer); // a running job keeps its deadline: it guards the decoder
    deliver();
  }

  private dequeue(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private onDeadline(job: Job): void {
    this.dequeue(job);
    job.reject(new SpeechProviderError(`recognition took over ${this.options.timeoutMs} ms`));
    // Still decoding past the deadline: the process is stuck (or starved); replace it.
    if (job.worker?.job === job) job.worker.process?.kill();
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (worker.job || this.disposed) continue;
      const job = this.queue.shift();
      if (!job) return;
      void this.run(worker, job);
    }
  }

  private async run(worker: Worker, job: Job): Promise<void> {
    worker.job = job;
    job.worker = worker;
    // The deadline runs from dispatch: on an overloaded machine a late answer beats none, and
    // the wait in front is already bounded by the queue's length.
    job.timer = setTimeout(() => this.onDeadline(job), this.options.timeoutMs);
    try {
      const process = await this.ensureProcess(worker);
      if (job.settled) return; // aborted while the process started
      job.resolve(await process.decode(job.id));
    } catch (err) {
      job.reject(err as Error);
    } finally {
      clearTimeout(job.timer);
      worker.job = undefined;
      this.dispatch();
    }
  }

  private async ensureProcess(worker: Worker): Promise<BatchProcess> {
    if (worker.process?.alive) return worker.process;
    if (worker.process) this.restarts++;
    const name = `${this.key}-${++this.nameCounter}`;
    const process = await BatchProcess.start(
      { binary: this.options.binary, folder: this.folder, jsgf: this.jsgf, decoder: [...(this.options.decoder ?? DECODER_SETTINGS)], name },
      () => undefined,
    );
    worker.process = process;
    if (this.disposed) process.kill();
    return process;
  }
}

/**
 * The embedded offline recogniser, resident: pocketsphinx 0.8 with a JSGF grammar built from
 * the agent's vocabulary, as a small pool of `pocketsphinx_batch` processes per grammar that load
 * the acoustic model once and are fed one utterance at a time. Utterances wait in a bounded
 * queue; an aborted one leaves the queue at once (or its result is dropped if already decoding);
 * a decoder that dies or overruns the deadline is killed and replaced on the next utterance.
 */
export class ResidentPocketsphinxRecognizer implements SpeechRecognizer {
  readonly name = 'pocketsphinx';
  private readonly files: GrammarFiles;
  private readonly pools = new Map<string, Promise<DecoderPool>>();
  /** The same pools once created, for synchronous questions (`hasSpareCapacity`). */
  private readonly created = new Set<DecoderPool>();
  private counter = 0;
  /** Recognitions between `recognize` and its result, over every grammar. */
  private inFlight = 0;

  constructor(private readonly options: ResidentPocketsphinxOptions) {
    if (!Number.isInteger(options.poolSize) || options.poolSize < 1) throw new RangeError('poolSize must be a positive integer');
    this.files = new GrammarFiles(options.dictionary);
  }

  async recognize(mulaw: Buffer, context: RecognitionContext, signal: AbortSignal, options: RecognitionOptions = {}): Promise<Transcript> {
    signal.throwIfAborted();
    if (mulaw.length < 1600) return { text: '', confidence: 0 }; // under 0.2 s: nothing to hear
    this.inFlight++;
    try {
      return await this.recognizeWith(mulaw, context, signal, options.speculative ?? false);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Speculative utterances wait behind committed ones, and one whose caller went on leaves the
   * queue at once; so one may be queued while the queue has room to spare (half of `maxQueue`
   * kept for committed turns). The CPU they can waste is a decode already running when its caller
   * resumed, at most one per call, and mostly when decoders were idle anyway.
   */
  hasSpareCapacity(): boolean {
    let waiting = 0;
    for (const pool of this.created) waiting += pool.load;
    return waiting < this.options.poolSize + Math.floor(this.options.maxQueue / 2);
  }

  private async recognizeWith(mulaw: Buffer, context: RecognitionContext, signal: AbortSignal, speculative: boolean): Promise<Transcript> {
    const pool = await this.pool(context.grammar);
    signal.throwIfAborted();
    // The 16 kHz en-us model hears 8 kHz audio band-limited-upsampled and dithered (see upsample2xSinc).
    const pcm = upsample2xSinc(mulawToPcm16(trimSilence(mulaw)));
    const id = `u${++this.counter}`;
    const file = join(await this.files.folder(), `${id}.raw`);
    await writeFile(file, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    try {
      const { text } = await pool.decode(id, signal, speculative);
      return { text, confidence: text ? MATCH_CONFIDENCE : 0 };
    } finally {
      await rm(file, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Loads the decoders of `grammar` ahead of the first call: starts them and has each decode a
   * moment of silence, which returns only once its model and grammar are loaded.
   */
  async warm(grammar: SpeechGrammar): Promise<void> {
    const pool = await this.pool(grammar);
    await pool.warm();
    const id = `w${++this.counter}`;
    const file = join(await this.files.folder(), `${id}.raw`);
    await writeFile(file, Buffer.alloc(16000 * 2 * 0.3));
    try {
      await Promise.all(Array.from({ length: this.options.poolSize }, () => pool.decode(id, new AbortController().signal)));
    } finally {
      await rm(file, { force: true }).catch(() => undefined);
    }
  }

  async stats(): Promise<RecognizerStats> {
    const pools = await Promise.all([...this.pools.values()].map((p) => p.catch(() => undefined)));
    const out: RecognizerStats = { grammars: 0, processes: 0, busy: 0, queued: 0, restarts: 0, rejected: 0, pids: [] };
    for (const pool of pools) {
      if (!pool) continue;
      const s = pool.stats();
      out.grammars++;
      out.processes += s.processes;
      out.pids.push(...s.pids);
      out.busy += s.busy;
      out.queued += s.queued;
      out.restarts += pool.restarts;
      out.rejected += pool.rejected;
    }
    return out;
  }

  /** Stops every decoder and removes the temporary files. */
  async dispose(): Promise<void> {
    const pools = await Promise.all([...this.pools.values()].map((p) => p.catch(() => undefined)));
    this.pools.clear();
    this.created.clear();
    for (const pool of pools) pool?.dispose();
    await this.files.dispose();
  }

  private pool(grammar: SpeechGrammar): Promise<DecoderPool> {
    const key = grammarKey(grammar);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = this.createPool(grammar, key);
      pool.catch(() => this.pools.delete(key));
      this.pools.set(key, pool);
      void this.evictIdle(key);
    }
    return pool;
  }

  private async createPool(grammar: SpeechGrammar, key: string): Promise<DecoderPool> {
    const jsgf = await this.files.file(grammar);
    const pool = new DecoderPool(key, jsgf, await this.files.folder(), this.options);
    this.created.add(pool);
    return pool;
  }

  /** Beyond `maxGrammars`, stop the least recently used idle pool (its grammar file stays compiled). */
  private async evictIdle(keep: string): Promise<void> {
    const max = this.options.maxGrammars ?? 8;
    if (this.pools.size <= max) return;
    const pools = (await Promise.all([...this.pools.values()].map((p) => p.catch(() => undefined)))).filter(
      (p): p is DecoderPool => !!p && p.key !== keep && p.idle,
    );
    pools.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const pool of pools.slice(0, this.pools.size - max)) {
      this.pools.delete(pool.key);
      this.created.delete(pool);
      pool.dispose();
    }
  }
}
