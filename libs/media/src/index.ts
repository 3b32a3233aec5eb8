export { MULAW_TO_PCM, MULAW_SILENCE, encodeSample, mulawToPcm16, pcm16ToMulaw, mulawLevelDb } from './mulaw.js';
export { pcm16ToWav, upsample2x, upsample2xSinc } from './wav.js';
export { BoundedQueue } from './bounded-queue.js';
export { AudioRing } from './audio-ring.js';
export { EnergyVad, type VadOptions, type VadEvent, type VadState } from './energy-vad.js';
export { SentenceChunker } from './sentence-chunker.js';
export { FramePacer, PacingClock, FRAME_BYTES, FRAME_MS, type PacerSink, type PacerOptions } from './frame-pacer.js';
export {
  SpeechProviderError, type SpeechRecognizer, type SpeechSynthesizer, type SynthesisVoice, type Transcript,
  type RecognitionContext, type RecognitionOptions, type SpeechGrammar,
} from './speech.types.js';
export { runProcess, liveChildProcesses, type RunOptions } from './child-process.js';
export { buildJsgf, grammarWords } from './jsgf-grammar.js';
export { PocketsphinxRecognizer, type PocketsphinxOptions } from './pocketsphinx-recognizer.js';
export { EspeakSynthesizer, type EspeakOptions } from './espeak-synthesizer.js';
export { GrammarFiles, grammarKey } from './grammar-files.js';
export { type CallerGrammar } from './jsgf-grammar.js';
export { BatchProcess, liveDecoderProcesses, type BatchHypothesis } from './pocketsphinx-batch.js';
export { ResidentPocketsphinxRecognizer, DECODER_SETTINGS, type ResidentPocketsphinxOptions, type RecognizerStats } from './resident-recognizer.js';
export { CachingSynthesizer, type SynthesisCacheOptions, type SynthesisCacheStats } from './caching-synthesizer.js';
export {
  SpeechAuthError, isStreamingSynthesizer, type StreamingRecognitionListener, type StreamingRecognitionSession,
  type StreamingSpeechRecognizer, type StreamingSpeechSynthesizer,
} from './speech.types.js';
export { DeepgramRecognizer, type DeepgramOptions } from './deepgram-recognizer.js';
export { ElevenLabsSynthesizer, type ElevenLabsOptions } from './elevenlabs-synthesizer.js';
export { OpenAiSpeechSynthesizer, Downsample24kToMulaw, type OpenAiSpeechOptions } from './openai-speech-synthesizer.js';
