/** Tuning of the energy VAD. */
export interface VadOptions {
  /** A frame at or above this level (dBFS) counts as voiced, unless the noise floor is higher. */
  thresholdDb: number;
  /** Voiced frames must add up to this much before speech is confirmed (guards against clicks and "uh"). */
  minSpeechMs: number;
  /** Silence that ends the caller's turn. */
  endSilenceMs: number;
  /** Voiced must exceed the running noise floor by this much (dB), so steady line noise never counts. */
  noiseMarginDb?: number;
  /** While confirming speech, a gap longer than this resets the confirmation. */
  maxGapMs?: number;
}

export type VadEvent =
  /** Speech confirmed; `onsetMs` is the stream time of its first voiced frame. */
  | { type: 'speech-start'; onsetMs: number; atMs: number }
  /** The caller stopped: `endSilenceMs` of silence since `lastVoicedMs`. */
  | { type: 'speech-end'; lastVoicedMs: number; atMs: number };

export type VadState = 'quiet' | 'starting' | 'speech';

/**
 * Energy-based voice activity detection on 20 ms frames, clocked by stream time (Twilio's
 * `media.timestamp`), so its decisions do not depend on when frames happen to arrive.
 * No model, no allocation per frame.
 */
export class EnergyVad {
  state: VadState = 'quiet';
  private voicedMs = 0;
  private gapMs = 0;
  private silenceMs = 0;
  private onsetMs = 0;
  private lastVoicedMs = 0;
  private noiseFloorDb = -90;
  private readonly margin: number;
  private readonly maxGap: number;

  constructor(private readonly options: VadOptions) {
    this.margin = options.noiseMarginDb ?? 12;
    this.maxGap = options.maxGapMs ?? 100;
  }

  /** While in speech: the silence since the last voiced frame (ms); 0 otherwise. Speculative turn handling watches it. */
  get trailingSilenceMs(): number {
    return this.state === 'speech' ? this.silenceMs : 0;
  }

  /** Feeds one frame's level at stream time `atMs`; returns an event when the state changes. */
  push(levelDb: number, atMs: number, frameMs = 20): VadEvent | undefined {
    const voiced = levelDb >= this.options.thresholdDb && levelDb >= this.noiseFloorDb + this.margin;
    if (!voiced && this.state === 'quiet') {
      // Track the floor only in quiet stretches: fast down, slow up.
      this.noiseFloorDb = levelDb < this.noiseFloorDb ? levelDb : this.noiseFloorDb + 0.02 * (levelDb - this.noiseFloorDb);
    }
    switch (this.state) {
      case 'quiet':
        if (voiced) {
          this.state = 'starting';
          this.onsetMs = atMs;
          this.voicedMs = frameMs;
          this.gapMs = 0;
          return this.confirm(atMs);
        }
        return undefined;
      case 'starting':
        if (voiced) {
          this.voicedMs += frameMs;
          this.gapMs = 0;
          return this.confirm(atMs);
        }
        this.gapMs += frameMs;
        if (this.gapMs > this.maxGap) this.state = 'quiet';
        return undefined;
      case 'speech':
        if (voiced) {
          this.silenceMs = 0;
          this.lastVoicedMs = atMs + frameMs;
          return undefined;
        }
        return this.addSilence(frameMs, atMs);
    }
  }

  /** Advances the clock by `ms` of silence (missing frames, or a stalled stream). */
  addSilence(ms: number, atMs: number): VadEvent | undefined {
    if (this.state === 'starting') {
      this.gapMs += ms;
      if (this.gapMs > this.maxGap) this.state = 'quiet';
      return undefined;
    }
    if (this.state !== 'speech') return undefined;
    this.silenceMs += ms;
    if (this.silenceMs < this.options.endSilenceMs) return undefined;
    this.state = 'quiet';
    this.silenceMs = 0;
    return { type: 'speech-end', lastVoicedMs: this.lastVoicedMs, atMs };
  }

  reset(): void {
    this.state = 'quiet';
    this.voicedMs = this.gapMs = this.silenceMs = 0;
  }

  private confirm(atMs: number): VadEvent | undefined {
    if (this.voicedMs < this.options.minSpeechMs) return undefined;
    this.state = 'speech';
    this.silenceMs = 0;
    this.lastVoicedMs = atMs + 20;
    return { type: 'speech-start', onsetMs: this.onsetMs, atMs };
  }
}
