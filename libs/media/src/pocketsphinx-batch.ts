import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { SpeechProviderError } from './speech.types.js';

const run = promisify(execFile);
let live = 0;

/** Resident pocketsphinx processes currently running (for leak checks and benchmarks). */
export function liveDecoderProcesses(): number {
  return live;
}

/** One decoded utterance: the grammar path found (empty when none) and its acoustic score. */
export interface BatchHypothesis {
  text: string;
  score: number;
}

export interface BatchProcessOptions {
  /** pocketsphinx_batch binary. */
  binary: string;
  /** Folder holding the utterance files (`<id>.raw`, 16 kHz 16-bit mono, no header). */
  folder: string;
  jsgf: string;
  /** Extra decoder arguments (beams and the like). */
  decoder: string[];
  /** Unique name of this process's control and hypothesis FIFOs inside `folder`. */
  name: string;
}

/**
 * One resident `pocketsphinx_batch` (pocketsphinx 0.8): the acoustic model and the grammar are
 * loaded once, then utterances are decoded one at a time as their file names are written to its
 * control file. pocketsphinx fopen()s its control and hypothesis files, which fails on the
 * socketpairs Node gives a child as stdio, so both are named FIFOs; we hold each open read-write,
 * so opening never blocks and neither side sees a premature end of file.
 */
export class BatchProcess {
  private child?: ChildProcess;
  private ctlFd?: number;
  private hyp?: Socket;
  private waiting?: { id: string; resolve(h: BatchHypothesis): void; reject(e: Error): void };
  private exited = false;
  readonly startedAt = Date.now();

  private constructor(
    private readonly options: BatchProcessOptions,
    private readonly onExit: (p: BatchProcess) => void,
  ) {}

  /** Starts a process (the model loads in the background; the first utterance waits for it). */
  static async start(options: BatchProcessOptions, onExit: (p: BatchProcess) => void): Promise<BatchProcess> {
    const ctl = `${options.folder}/${options.name}.ctl`;
    const hyp = `${options.folder}/${options.name}.hyp`;
    await rm(ctl, { force: true });
    await rm(hyp, { force: true });
    try {
      await run('mkfifo', ['-m', '600', ctl, hyp]);
    } catch (err) {
      throw new SpeechProviderError(`mkfifo failed: ${(err as Error).message}`);
    }
    const p = new BatchProcess(options, onExit);
    p.ctlFd = openSync(ctl, constants.O_RDWR);
    p.hyp = new Socket({ fd: openSync(hyp, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
    p.hyp.on('error', () => p.kill());
    createInterface({ input: p.hyp }).on('line', (line) => p.onLine(line));
    const child = spawn(
      options.binary,
      ['-ctl', ctl, '-cepdir', options.folder, '-cepext', '.raw', '-adcin', 'yes', '-jsgf', options.jsgf, '-hyp', hyp, '-logfn', '/dev/null', ...options.decoder],
      { stdio: 'ignore' },
    );
    p.child = child;
    live++;
    child.once('error', (err) => p.finish(new SpeechProviderError(`${options.binary} failed: ${err.message}`)));
    child.once('exit', (code, signal) => p.finish(new SpeechProviderError(`${options.binary} exited (${signal ?? code})`)));
    return p;
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Decodes `<folder>/<id>.raw`. One at a time: the caller (the pool) never overlaps calls. */
  decode(id: string): Promise<BatchHypothesis> {
    if (this.exited || this.ctlFd === undefined) return Promise.reject(new SpeechProviderError('decoder is not running'));
    if (this.waiting) return Promise.reject(new SpeechProviderError('decoder is busy'));
    return new Promise((resolve, reject) => {
      this.waiting = { id, resolve, reject };
      try {
        writeSync(this.ctlFd!, `${id}\n`);
      } catch (err) {
        this.finish(new SpeechProviderError(`decoder control write failed: ${(err as Error).message}`));
      }
    });
  }

  /** SIGKILL (a stuck decode, or shutdown); the exit handler releases everything. */
  kill(): void {
    if (!this.exited) this.child?.kill('SIGKILL');
  }

  private onLine(line: string): void {
    // "<words> (<id> <score>)"; words are empty when no grammar path survived the beams.
    const match = /^(.*)\((\S+) (-?\d+)\)\s*$/.exec(line);
    const waiting = this.waiting;
    if (!match || !waiting || match[2] !== waiting.id) return;
    this.waiting = undefined;
    waiting.resolve({ text: match[1].trim(), score: Number(match[3]) });
  }

  private finish(err: Error): void {
    if (this.exited) return;
    this.exited = true;
    live--;
    if (this.child?.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    if (this.ctlFd !== undefined) closeSync(this.ctlFd);
    this.ctlFd = undefined;
    this.hyp?.destroy();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(err);
    const base = `${this.options.folder}/${this.options.name}`;
    void rm(`${base}.ctl`, { force: true }).catch(() => undefined);
    void rm(`${base}.hyp`, { force: true }).catch(() => undefined);
    this.onExit(this);
  }
}
