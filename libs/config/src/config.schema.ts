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
  /** Where the REST client sends requests; only tests point it at a local fake. */
  TWILIO_API_BASE_URL: optional(z.url()),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  DATABASE_POOL_SIZE: int(1, 100).default(10),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),

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
  /** How far ahead of playback the agent's audio is sent (ms); bounded so `clear` stays prompt. */
  MEDIA_PACING_LEAD_MS: int(20, 1000).default(200),
  /** Bound of one call's outbound audio queue and of one caller utterance (ms); oldest audio is dropped beyond. */
  MEDIA_MAX_QUEUED_AUDIO_MS: int(1000, 300_000).default(60_000),
  MEDIA_MAX_UTTERANCE_MS: int(1000, 60_000).default(15_000),
  /** Malformed or unexpected messages one socket may send before it is closed. */
  MEDIA_MAX_INVALID_MESSAGES: int(1, 10_000).default(25),
  MEDIA_STT_PROVIDER: z.enum(['pocketsphinx', 'none']).default('pocketsphinx'),
  MEDIA_TTS_PROVIDER: z.enum(['espeak']).default('espeak'),
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

  /** Replace card numbers, SSNs, e-mail addresses and phone numbers in caller turns before storage. */
  REDACT_PII: optional(bool).default(true),
  /** Which PII types REDACT_PII replaces (comma list of card, ssn, email, phone). */
  REDACT_PII_TYPES: z
    .string()
    .default('card,ssn,email,phone')
    .refine((v) => v.split(',').map((s) => s.trim()).filter(Boolean).every((s) => ['card', 'ssn', 'email', 'phone'].includes(s)), 'must be a comma list of card, ssn, email, phone'),
  /** Erase transcripts of calls older than this many days (a worker job); unset keeps them. */
  TRANSCRIPT_RETENTION_DAYS: optional(int(1, 36_500)),

  WORKER_CONCURRENCY: int(1, 512).default(16),
  SHUTDOWN_TIMEOUT_MS: int(1000, 120_000).default(10_000),
}).superRefine(requireOpenAiSettings);

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

export type Config = z.infer<typeof configSchema>;
