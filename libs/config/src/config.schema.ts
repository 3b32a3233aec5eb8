import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +15551234567');
/** Treat `FOO=` (empty) like an unset variable, as shells and .env files often leave them. */
const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/**
 * Every environment variable the apps read, validated once at start.
 * Secrets (auth token, API keys, database passwords inside URLs) never have defaults.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(3000),
  WORKER_PORT: int(0, 65535).default(3001),
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .transform((v) => v.replace(/\/+$/, '')),
  TRUST_PROXY: optional(bool).default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits'),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be the account auth token (32 characters)'),
  /**
   * Where the REST client sends requests: a local stand-in of Twilio's REST API in development
   * (`npm run dev` starts one) and tests. Refused when NODE_ENV=production.
   */
  TWILIO_API_BASE_URL: optional(z.url()),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  DATABASE_POOL_SIZE: int(1, 100).default(10),
  /** `redis://`, `rediss://` (TLS), or `redis+sentinel://host1:26379,host2:26379/mymaster/0` (a Sentinel-managed master). */
  REDIS_URL: z.string().regex(/^rediss?(\+sentinel)?:\/\//, 'must be a redis://, rediss:// or redis+sentinel:// URL'),

  ADMIN_API_KEY: optional(z.string().min(24, 'must be at least 24 characters')),
  /** Requests one API key may make per window on /admin routes (never applied to /twilio). */
  ADMIN_RATE_LIMIT: int(1, 1_000_000).default(300),
  ADMIN_RATE_WINDOW_SECONDS: int(1, 3600).default(60),

  AI_PROVIDER: z.enum(['local', 'openai']).default('local'),
  AGENTS_FILE: z.string().default('config/agents.json'),
  DEFAULT_AGENT: z.string().default('default'),
  OPENAI_BASE_URL: optional(z.url()),
  OPENAI_API_KEY: optional(z.string()),
  OPENAI_MODEL: optional(z.string()),
  /** Ask the model for server-sent events (tokens as they are produced); false for servers without streaming. */
  OPENAI_STREAM: optional(bool).default(true),

  DEFAULT_CALL_MODE: z.enum(['gather', 'stream', 'relay']).default('gather'),
  SPEECH_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.6),
  MAX_MISSED_TURNS: int(1, 10).default(3),
  /** How long a webhook waits for the agent's answer before it plays a filler and redirects. */
  TURN_WAIT_MS: int(100, 10_000).default(2500),
  /** Overall ceiling for one agent turn, across redirects, before an apology and a reprompt. */
  TURN_CEILING_MS: int(1000, 14_000).default(12_000),
  HUMAN_TRANSFER_NUMBER: optional(e164),
  CALL_SESSION_TTL_SECONDS: int(60, 86_400).default(4 * 3600),

  /** Media streams (mode=stream): a frame at or above this level (dBFS) may be speech. */
  MEDIA_VAD_THRESHOLD_DB: z.coerce.number().min(-90).max(0).default(-45),
  /** Caller speech must last this long before it counts (and interrupts the agent). */
  MEDIA_MIN_SPEECH_MS: int(20, 2000).default(200),
  /** Silence that ends the caller's turn. */
  MEDIA_END_OF_TURN_MS: int(100, 5000).default(600),
  /**
   * Silence after which the caller's turn is prepared speculatively (recognised, answered, first
   * sentence synthesised, all held back) so the answer is ready when MEDIA_END_OF_TURN_MS commits
   * it; discarded if the caller resumes. 0 = off; at or above MEDIA_END_OF_TURN_MS it never fires.
   */
  MEDIA_SPECULATIVE_MS: int(0, 5000).default(250),
  /** How far ahead of playback the agent's audio is sent (ms); bounded so `clear` stays prompt. */
  MEDIA_PACING_LEAD_MS: int(20, 1000).default(200),
  /** Bound of one call's outbound audio queue and of one caller utterance (ms); oldest audio is dropped beyond. */
  MEDIA_MAX_QUEUED_AUDIO_MS: int(1000, 300_000).default(60_000),
  MEDIA_MAX_UTTERANCE_MS: int(1000, 60_000).default(15_000),
  /** Malformed or unexpected messages one socket may send before it is closed. */
  MEDIA_MAX_INVALID_MESSAGES: int(1, 10_000).default(25),
  MEDIA_STT_PROVIDER: z.enum(['pocketsphinx', 'none', 'deepgram']).default('pocketsphinx'),
  MEDIA_TTS_PROVIDER: z.enum(['espeak', 'elevenlabs', 'openai']).default('espeak'),
  POCKETSPHINX_BIN: z.string().default('pocketsphinx_continuous'),
  POCKETSPHINX_DICT: z.string().default('/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict'),
  ESPEAK_BIN: z.string().default('espeak-ng'),
  SOX_BIN: z.string().default('sox'),
  /** espeak-ng speaking rate (words per minute). */
  ESPEAK_RATE: int(80, 400).default(150),
  /** Offline pipeline that scales (issue 9): resident decoders (default) or main's process per utterance (baseline). */
  POCKETSPHINX_MODE: z.enum(['resident', 'process']).default('resident'),
  POCKETSPHINX_BATCH_BIN: z.string().default('pocketsphinx_batch'),
  /** Resident decoder processes per grammar (each ~32 MB; one CPU while decoding). */
  POCKETSPHINX_POOL_SIZE: int(1, 32).default(2),
  /** Utterances that may wait for a decoder; beyond it a recognition fails at once (heard as "no input"). */
  POCKETSPHINX_QUEUE_MAX: int(1, 10_000).default(64),
  /** Synthesised sentences kept in memory (MB of 8 kHz μ-law, 8 KB per second); 0 disables the cache. */
  MEDIA_TTS_CACHE_MB: int(0, 1024).default(16),

  /** Stream calls: what runs behind the /twilio/media socket (an agent's `streamEngine` overrides it). */
  STREAM_ENGINE: z.enum(['pipeline', 'realtime']).default('pipeline'),
  /** OpenAI Realtime WebSocket endpoint (Azure: wss://RESOURCE.openai.azure.com/openai/v1/realtime); the model goes in `?model=`. */
  OPENAI_REALTIME_URL: z.url({ protocol: /^wss?$/ }).default('wss://api.openai.com/v1/realtime'),
  /** Realtime model (or Azure deployment) name. */
  OPENAI_REALTIME_MODEL: z.string().min(1).max(200).default('gpt-realtime'),
  /** Model that transcribes the caller for the transcript (the speech model hears audio directly). */
  OPENAI_REALTIME_TRANSCRIPTION_MODEL: z.string().min(1).max(200).default('gpt-4o-mini-transcribe'),
  /** The model's turn detection: server_vad (threshold, padding, silence below) or semantic_vad. */
  OPENAI_REALTIME_TURN_DETECTION: z.enum(['server_vad', 'semantic_vad']).default('server_vad'),
  OPENAI_REALTIME_VAD_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),
  OPENAI_REALTIME_VAD_PREFIX_PADDING_MS: int(0, 2000).default(300),
  OPENAI_REALTIME_VAD_SILENCE_MS: int(100, 5000).default(500),
  /** Longest wait for the model (connect, first audio of an answer) before the caller hears an apology. */
  OPENAI_REALTIME_STALL_MS: int(200, 2500).default(2000),
  /** Longest realtime call; then a polite goodbye. (A few seconds is allowed so tests can reach it.) */
  OPENAI_REALTIME_MAX_CALL_SECONDS: int(2, 14_400).default(3600),

  // Streaming cloud speech for the pipeline engine (MEDIA_STT_PROVIDER=deepgram, MEDIA_TTS_PROVIDER=elevenlabs|openai).
  /** Deepgram live transcription endpoint (tests point it at a local fake). */
  DEEPGRAM_URL: z.url({ protocol: /^wss?$/ }).default('wss://api.deepgram.com/v1/listen'),
  DEEPGRAM_API_KEY: optional(z.string()),
  DEEPGRAM_MODEL: z.string().default('nova-3'),
  /** Silence (ms) after which Deepgram marks a result `speech_final`: our end of turn. */
  DEEPGRAM_ENDPOINTING_MS: int(10, 5000).default(300),
  /** Fallback end of turn when noise keeps endpointing from firing (Deepgram's minimum is 1000). */
  DEEPGRAM_UTTERANCE_END_MS: int(1000, 5000).default(1000),
  /** ElevenLabs origin; the stream-input path is appended. */
  ELEVENLABS_URL: z.url({ protocol: /^(wss?|https?)$/ }).default('wss://api.elevenlabs.io'),
  ELEVENLABS_API_KEY: optional(z.string()),
  /** Voice used for every agent (a premade voice by default). */
  ELEVENLABS_VOICE_ID: z.string().regex(/^[A-Za-z0-9]{8,64}$/, 'must be an ElevenLabs voice id').default('21m00Tcm4TlvDq8ikWAM'),
  ELEVENLABS_MODEL_ID: z.string().default('eleven_flash_v2_5'),
  /** OpenAI speech endpoint for MEDIA_TTS_PROVIDER=openai (OPENAI_BASE_URL/OPENAI_API_KEY are shared with the agent). */
  OPENAI_TTS_MODEL: z.string().default('gpt-4o-mini-tts'),
  OPENAI_TTS_VOICE: z.string().default('alloy'),
  /** A cloud speech provider that has not answered within this long counts as failed; the offline tools take over. */
  MEDIA_PROVIDER_TIMEOUT_MS: int(200, 30_000).default(3000),

  /** Replace card numbers, SSNs, e-mail addresses and phone numbers in caller turns before storage. */
  REDACT_PII: optional(bool).default(true),
  /** Which PII types REDACT_PII replaces (comma list of card, ssn, email, phone). */
  REDACT_PII_TYPES: z
    .string()
    .default('card,ssn,email,phone')
    .refine((v) => v.split(',').map((s) => s.trim()).filter(Boolean).every((s) => ['card', 'ssn', 'email', 'phone'].includes(s)), 'must be a comma list of card, ssn, email, phone'),
  /** Erase transcripts of calls older than this many days (a worker job); unset keeps them. */
  TRANSCRIPT_RETENTION_DAYS: optional(int(1, 36_500)),
  /** Observability: Prometheus metrics on GET /metrics of the api (PORT) and each worker (WORKER_PORT). */
  METRICS_ENABLED: optional(bool).default(true),
  /** When set, /metrics wants `Authorization: Bearer <token>`; unset, keep /metrics on a private network. */
  METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),

  WORKER_CONCURRENCY: int(1, 512).default(16),
  SHUTDOWN_TIMEOUT_MS: int(1000, 120_000).default(10_000),

  // --- Hot path (issue 10) ---
  /** Most transcript writes a worker drains from the stream into one Postgres statement. */
  TRANSCRIPT_BATCH_SIZE: int(1, 5000).default(500),
  /** A transcript write read but not acknowledged for this long (its worker died) is taken over by another worker. */
  TRANSCRIPT_CLAIM_IDLE_MS: int(500, 600_000).default(10_000),
  /** Answer turns of the built-in `local` agent inside the api process instead of through the worker (see README). */
  AGENT_LOCAL_IN_API: optional(bool).default(false),
}).superRefine(requireOpenAiSettings).superRefine(requireRealtimeKey).superRefine(requireSpeechProviderKeys).superRefine(noStandInInProduction);

/** A production call must never be hung up or transferred through a development stand-in. */
function noStandInInProduction(env: { NODE_ENV: string; TWILIO_API_BASE_URL?: string }, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV === 'production' && env.TWILIO_API_BASE_URL) {
    ctx.addIssue({ code: 'custom', path: ['TWILIO_API_BASE_URL'], message: 'is for development and tests only: unset it when NODE_ENV=production' });
  }
}

/** Hosted endpoints that always need a key; local servers (Ollama, vLLM, llama.cpp) usually do not. */
const KEYED_HOSTS = /(^|\.)(openai\.com|openai\.azure\.com|azure\.com)$/;

/** AI_PROVIDER=openai is unusable without an endpoint and a model: fail at start, naming the variable. */
function requireOpenAiSettings(
  env: { AI_PROVIDER: string; OPENAI_BASE_URL?: string; OPENAI_MODEL?: string; OPENAI_API_KEY?: string },
  ctx: z.RefinementCtx,
): void {
  if (env.AI_PROVIDER !== 'openai') return;
  const missing = (name: string) => ctx.addIssue({ code: 'custom', path: [name], message: 'is required when AI_PROVIDER=openai' });
  if (!env.OPENAI_BASE_URL) missing('OPENAI_BASE_URL');
  if (!env.OPENAI_MODEL) missing('OPENAI_MODEL');
  if (env.OPENAI_BASE_URL && !env.OPENAI_API_KEY && KEYED_HOSTS.test(new URL(env.OPENAI_BASE_URL).hostname)) missing('OPENAI_API_KEY');
}

/** STREAM_ENGINE=realtime against OpenAI or Azure cannot work without a key: fail at start, naming it. */
function requireRealtimeKey(env: { STREAM_ENGINE: string; OPENAI_REALTIME_URL: string; OPENAI_API_KEY?: string }, ctx: z.RefinementCtx): void {
  if (env.STREAM_ENGINE === 'realtime' && !env.OPENAI_API_KEY && KEYED_HOSTS.test(new URL(env.OPENAI_REALTIME_URL).hostname)) {
    ctx.addIssue({ code: 'custom', path: ['OPENAI_API_KEY'], message: 'is required when STREAM_ENGINE=realtime' });
  }
}

/** A cloud speech provider without its key would fail on every call: fail at start instead, naming the variable. */
function requireSpeechProviderKeys(
  env: { MEDIA_STT_PROVIDER: string; MEDIA_TTS_PROVIDER: string; DEEPGRAM_API_KEY?: string; ELEVENLABS_API_KEY?: string; OPENAI_API_KEY?: string; OPENAI_BASE_URL?: string },
  ctx: z.RefinementCtx,
): void {
  const missing = (name: string, when: string) => ctx.addIssue({ code: 'custom', path: [name], message: `is required when ${when}` });
  if (env.MEDIA_STT_PROVIDER === 'deepgram' && !env.DEEPGRAM_API_KEY) missing('DEEPGRAM_API_KEY', 'MEDIA_STT_PROVIDER=deepgram');
  if (env.MEDIA_TTS_PROVIDER === 'elevenlabs' && !env.ELEVENLABS_API_KEY) missing('ELEVENLABS_API_KEY', 'MEDIA_TTS_PROVIDER=elevenlabs');
  if (env.MEDIA_TTS_PROVIDER === 'openai' && !env.OPENAI_API_KEY) missing('OPENAI_API_KEY', 'MEDIA_TTS_PROVIDER=openai');
}

export type Config = z.infer<typeof configSchema>;
