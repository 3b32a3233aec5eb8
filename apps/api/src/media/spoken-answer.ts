import type { Logger } from '@nestjs/common';
import { SentenceChunker, isStreamingSynthesizer, type FramePacer, type SpeechSynthesizer, type SynthesisVoice } from '#libs/media';

/** Longest answer synthesised: a runaway model cannot queue unbounded TTS work. */
const MAX_SENTENCES = 40;
/** After the last audio is queued, how long to wait for its mark beyond the audio's length. */
const MARK_GRACE_MS = 3000;

interface Sentence {
  text: string;
  played: boolean;
  audioMs: number;
}

/** What a held (speculative) answer produced, in order, to be sent when it is committed. */
type HeldOutput = { audio: Buffer } | { mark: number };

/**
 * One thing the agent says on a media stream (the greeting or one turn's answer): text arrives
 * in pieces, is synthesised sentence by sentence, paced out, and followed by a mark per sentence.
 * The echoed marks are the only truth about what the caller heard. Belongs to one generation
 * of the call: once aborted, nothing of it reaches the socket again.
 *
 * A speculative answer starts `held`: only its first sentence is synthesised, and its audio
 * and marks are kept back (not one frame reaches the pacer) until `release` commits it.
 */
export class SpokenAnswer {
  private readonly sentences: Sentence[] = [];
  private readonly chunker = new SentenceChunker();
  private readonly abort = new AbortController();
  private next = 0;
  private synthesizing = false;
  private textEnded = false;
  private done = false;
  private graceTimer?: NodeJS.Timeout;
  private held: boolean;
  private heldOutput: HeldOutput[] = [];
  /** When the first audio of the answer went to the socket (performance.now()). */
  firstAudioAt?: number;

  constructor(
    /** The call generation the answer belongs to (fixed when a held answer is released). */
    public generation: number,
    private readonly tts: SpeechSynthesizer,
    private readonly voice: SynthesisVoice,
    private readonly pacer: FramePacer,
    private readonly logger: Logger,
    private readonly onComplete: (answer: SpokenAnswer) => void,
    private readonly onFirstAudio?: (answer: SpokenAnswer) => void,
    options: { held?: boolean } = {},
  ) {
    this.held = options.held ?? false;
  }

  /** Held back: a speculative answer that has not been committed. */
  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Commits a held answer to `generation`: what it has ready goes to the pacer at once (the
   * first sentence, usually), and the rest is synthesised and sent as usual.
   */
  release(generation: number): void {
    if (!this.held || this.done) return;
    this.held = false;
    this.generation = generation;
    const output = this.heldOutput;
    this.heldOutput = [];
    for (const item of output) {
      if ('audio' in item) this.sendAudio(item.audio);
      else this.pacer.enqueueMark(this.markName(item.mark));
    }
    void this.pump();
    this.checkComplete();
  }

  get active(): boolean {
    return !this.done;
  }

  /** Whole text known so far (spoken or not). */
  get fullText(): string {
    return this.sentences.map((s) => s.text).join(' ');
  }

  /** Only the sentences whose marks Twilio echoed: what the caller heard. */
  heardText(): string {
    const heard: string[] = [];
    for (const s of this.sentences) {
      if (!s.played) break;
      heard.push(s.text);
    }
    return heard.join(' ');
  }

  pushText(text: string): void {
    if (this.done || this.textEnded) return;
    for (const sentence of this.chunker.push(text)) this.addSentence(sentence);
  }

  /** No more text will come. `fallback` is spoken if no text arrived at all (a non-streaming provider). */
  endText(fallback?: string): void {
    if (this.done || this.textEnded) return;
    const rest = this.chunker.flush();
    if (rest) this.addSentence(rest);
    if (this.sentences.length === 0 && fallback) {
      const chunker = new SentenceChunker();
      for (const sentence of chunker.push(fallback)) this.addSentence(sentence);
      const last = chunker.flush();
      if (last) this.addSentence(last);
    }
    this.textEnded = true;
    this.checkComplete();
  }

  /** A mark came back: every sentence up to it has been played. */
  onMark(index: number): void {
    if (this.done || index < 0 || index >= this.sentences.length) return;
    for (let i = 0; i <= index; i++) this.sentences[i].played = true;
    this.checkComplete();
  }

  /** Stops at once: no further frame, TTS child killed. The caller sends `clear` and cancels the turn. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.graceTimer);
    this.abort.abort(new DOMException('answer interrupted', 'AbortError'));
    this.heldOutput = [];
    // A held answer never reached the pacer: what is queued there belongs to someone else.
    if (!this.held) this.pacer.clear();
  }

  markName(index: number): string {
    return `a${this.generation}.${index}`;
  }

  private addSentence(text: string): void {
    if (this.sentences.length >= MAX_SENTENCES) return;
    this.sentences.push({ text, played: false, audioMs: 0 });
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.synthesizing) return;
    this.synthesizing = true;
    try {
      // Held: the first sentence is all that is worth preparing before the turn is committed.
      while (!this.done && this.next < this.sentences.length && !(this.held && this.next > 0)) {
        const index = this.next++;
        const sentence = this.sentences[index];
        let audioBytes = 0;
        // Audio goes to the pacer as it arrives: a streaming voice is heard before its sentence is complete.
        const deliver = (audio: Buffer) => {
          if (this.done || !audio.length) return;
          audioBytes += audio.length;
          if (this.held) this.heldOutput.push({ audio: Buffer.from(audio) });
          else this.sendAudio(audio);
        };
        try {
          if (isStreamingSynthesizer(this.tts)) await this.tts.synthesizeStream(sentence.text, this.voice, this.abort.signal, deliver);
          else deliver(await this.tts.synthesize(sentence.text, this.voice, this.abort.signal));
        } catch (err) {
          if (this.done) return;
          this.logger.warn({ err: (err as Error).message }, audioBytes ? 'sentence cut short by the synthesiser' : 'sentence could not be synthesised: skipped');
          if (!audioBytes) {
            sentence.played = true; // nothing to hear; do not block the answer on a mark that never comes
            continue;
          }
        }
        if (this.done) return; // interrupted while synthesising: the pacer was cleared
        sentence.audioMs = Math.round(audioBytes / 8);
        if (this.held) this.heldOutput.push({ mark: index });
        else this.pacer.enqueueMark(this.markName(index));
      }
    } finally {
      this.synthesizing = false;
      this.checkComplete();
    }
  }

  private sendAudio(audio: Buffer): void {
    if (this.firstAudioAt === undefined) {
      this.firstAudioAt = performance.now();
      this.onFirstAudio?.(this);
    }
    this.pacer.enqueueAudio(audio);
  }

  private checkComplete(): void {
    if (this.done || this.held || !this.textEnded || this.synthesizing || this.next < this.sentences.length) return;
    if (this.sentences.every((s) => s.played)) {
      this.done = true;
      clearTimeout(this.graceTimer);
      this.onComplete(this);
      return;
    }
    if (!this.graceTimer) {
      // A lost mark must not leave the call "speaking" for ever.
      const pendingMs = this.sentences.filter((s) => !s.played).reduce((sum, s) => sum + s.audioMs, 0);
      this.graceTimer = setTimeout(() => {
        if (this.done) return;
        this.done = true;
        this.onComplete(this);
      }, pendingMs + MARK_GRACE_MS);
    }
  }
}
