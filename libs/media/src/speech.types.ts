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
  recognize(mulaw: Buffer, context: RecognitionContext, signal: AbortSignal): Promise<Transcript>;
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
