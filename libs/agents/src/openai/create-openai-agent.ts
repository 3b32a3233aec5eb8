import { OpenAI } from 'openai';
import type { Config } from '#libs/config';
import type { AgentConfig } from '../agent-config.js';
import { ChatModel, DEFAULT_CHAT_MODEL_OPTIONS, type ChatModelOptions } from './chat-model.js';
import { OpenAiAgent } from './openai-agent.js';

type OpenAiSettings = Pick<Config, 'OPENAI_BASE_URL' | 'OPENAI_API_KEY' | 'OPENAI_MODEL' | 'OPENAI_STREAM' | 'HUMAN_TRANSFER_NUMBER'>;

/**
 * Builds the openai provider from validated config. Every client option that would otherwise
 * fall back to an OPENAI_* environment variable is passed explicitly: configuration is read in
 * one place only. Local servers need no key, but the client insists on one, hence the placeholder.
 */
export function createOpenAiAgent(
  config: OpenAiSettings,
  agents: (name: string) => AgentConfig,
  overrides: Partial<ChatModelOptions> = {},
): OpenAiAgent {
  if (!config.OPENAI_BASE_URL || !config.OPENAI_MODEL) throw new Error('OPENAI_BASE_URL and OPENAI_MODEL are required when AI_PROVIDER=openai');
  const client = new OpenAI({
    baseURL: config.OPENAI_BASE_URL,
    apiKey: config.OPENAI_API_KEY ?? 'no-key',
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0, // retried by ChatModel, within the turn budget
    timeout: 15_000, // a backstop only; each request carries the turn's deadline
    logLevel: 'off', // failures surface as typed errors in our own logs
  });
  const chat = new ChatModel(client, { ...DEFAULT_CHAT_MODEL_OPTIONS, stream: config.OPENAI_STREAM, ...overrides });
  return new OpenAiAgent(agents, chat, { model: config.OPENAI_MODEL, fallbackTransferNumber: config.HUMAN_TRANSFER_NUMBER });
}
