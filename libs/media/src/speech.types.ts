/** What a recogniser heard in one caller utterance. */
export interface Transcript {
  text: string;
  /** 0–1; 0 when nothing was recognised. */
  confidence: number;
}

/** What the recogniser may expect: the phrases of the agent's intents and FAQ. */
export interface RecognitionContext {
  /** BCP-47 language, e.g. en-US. */
  language: string;
  /** Expected phrases (grammar-based recognisers) or hints (cloud recognisers). */
  grammar: SpeechGrammar;
}

/** Phrases a caller is expected to say, with the keywords they revolve around. */
export interface SpeechGrammar {
  /** Stable identity (cache key for a compiled grammar). */
  id: string;
  /** Whole phrases (e.g. FAQ questions). */
  phrases: string[];
  /** Topic words (department names and keywords, FAQ keywords, yes/no, goodbye …). */
  keywords: string[];
  /** Openers that may precede a keyword ("i need help with my"). */
  leads: string[];
}

/**
 * Speech-to-text for one finished utterance (8 kHz μ-law). Implementations must stop promptly
 * and reject with an AbortError when `signal` aborts, leaving no child process or socket behind.
 */
export interface SpeechRecognizer {
  readonly name: string;
  recognize(mulaw: Buffer, context: RecognitionContext, signal: AbortSignal, options?: RecognitionOptions): Promise<Transcript>;
  /**
   * Whether a speculative recognition may be started now without delaying committed ones or
   * piling up work. Work that may be thrown away is only started when this says so; a
   * recogniser without it is taken to be cheap (a cloud or fake one).
   */
  hasSpareCapacity?(): boolean;
}

export interface RecognitionOptions {
  /** The turn has not ended yet (it may be thrown away): queue behind committed utterances. */
  speculative?: boolean;
}

/** How the agent should sound. */
export interface SynthesisVoice {
  language: string;
  /** Provider-specific voice name; providers ignore names they do not know. */
  voice?: string;
}

/** Text-to-speech of one sentence, returned as 8 kHz mono μ-law (Twilio's format). Same abort contract as above. */
export interface SpeechSynthesizer {
  readonly name: string;
  synthesize(text: string, voice: SynthesisVoice, signal: AbortSignal): Promise<Buffer>;
}

/** A speech tool failed (not an abort). */
export class SpeechProviderError extends Error {
  override name = 'SpeechProviderError';
}

/** A cloud provider refused our credentials (HTTP 401/403 or its auth close code): retrying will not help. */
export class SpeechAuthError extends SpeechProviderError {
  override name = 'SpeechAuthError';
}

/**
 * What a streaming recogniser reports for one call. Calls arrive on the event loop in order;
 * after `failed` (or after the session was closed) nothing more arrives.
 */
export interface StreamingRecognitionListener {
  /** The provider heard speech begin (its own voice-activity event). */
  speechStarted(): void;
  /** Provisional text of the utterance in progress (the whole utterance so far, not a delta): early barge-in. */
  interim(text: string): void;
  /** The provider decided the caller's turn is over; `transcript` is everything said in the turn. */
  endOfTurn(transcript: Transcript): void;
  /** The session is unusable (bad credentials, closed, protocol errors); the caller falls back. */
  failed(error: SpeechProviderError): void;
}

/** One call's live recognition: audio in, listener events out. */
export interface StreamingRecognitionSession {
  /** One frame of 8 kHz μ-law (any length); dropped (and counted) while the provider is not connected. */
  sendAudio(frame: Buffer): void;
  /**
   * Text heard in the current turn that has not been reported by `endOfTurn` yet (finals, else
   * the last interim): what a caller falls back on when the provider is slow to end the turn.
   */
  pendingText(): Transcript;
  /** Forgets the current turn's text (it was used, or it is stale). */
  resetTurn(): void;
  /** Ends the session, politely when possible; idempotent, no listener call after it. */
  close(): void;
}

/**
 * Speech-to-text that listens continuously (a cloud socket per call) and decides the end of
 * the caller's turn itself — instead of the pipeline's VAD + one `recognize` per utterance.
 */
export interface StreamingSpeechRecognizer {
  readonly name: string;
  start(context: RecognitionContext, listener: StreamingRecognitionListener, meta: { callSid: string }): StreamingRecognitionSession;
}

/**
 * A synthesiser that can deliver one sentence's audio in pieces as it is produced, so the first
 * frames reach the caller before the whole sentence is synthesised. Same abort contract as
 * `synthesize`; resolves once the sentence's audio is complete.
 */
export interface StreamingSpeechSynthesizer extends SpeechSynthesizer {
  synthesizeStream(text: string, voice: SynthesisVoice, signal: AbortSignal, onAudio: (mulaw: Buffer) => void): Promise<void>;
  /** A hint that a sentence will follow shortly (the agent is thinking): open a connection now. */
  prepare?(): void;
}

/** Whether a synthesiser can stream (see `StreamingSpeechSynthesizer`). */
export function isStreamingSynthesizer(tts: SpeechSynthesizer): tts is StreamingSpeechSynthesizer {
  return typeof (tts as Partial<StreamingSpeechSynthesizer>).synthesizeStream === 'function';
}
