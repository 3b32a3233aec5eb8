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

  AI_PROVIDER: z.enum(['local']).default('local'),
  AGENTS_FILE: z.string().default('config/agents.json'),
  DEFAULT_AGENT: z.string().default('default'),
  OPENAI_BASE_URL: optional(z.url()),
  OPENAI_API_KEY: optional(z.string()),
  OPENAI_MODEL: optional(z.string()),

  DEFAULT_CALL_MODE: z.enum(['gather', 'stream', 'relay']).default('gather'),
  SPEECH_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.6),
  MAX_MISSED_TURNS: int(1, 10).default(3),
  /** How long a webhook waits for the agent's answer before it plays a filler and redirects. */
  TURN_WAIT_MS: int(100, 10_000).default(2500),
  /** Overall ceiling for one agent turn, across redirects, before an apology and a reprompt. */
  TURN_CEILING_MS: int(1000, 14_000).default(12_000),
  HUMAN_TRANSFER_NUMBER: optional(e164),
  CALL_SESSION_TTL_SECONDS: int(60, 86_400).default(4 * 3600),

  WORKER_CONCURRENCY: int(1, 512).default(16),
  SHUTDOWN_TIMEOUT_MS: int(1000, 120_000).default(10_000),
});

export type Config = z.infer<typeof configSchema>;
