import { readFileSync } from 'node:fs';
import { z } from 'zod';

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/);

const departmentSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/),
  digit: z.string().regex(/^[0-9]$/).optional(),
  description: z.string().max(500),
  keywords: z.array(z.string().min(2).max(40)).max(100),
  welcome: z.string().max(500),
  /** When set, routing to this department dials it. */
  number: e164.optional(),
  /**
   * The welcome asks for sensitive keypad input (a card number, a PIN): the caller's next keypad
   * entry is a secure step — never stored, logged or given to the model.
   */
  secureInput: z.boolean().optional(),
});

const faqSchema = z.object({
  question: z.string().max(500),
  keywords: z.array(z.string().min(2).max(40)).min(1).max(50),
  answer: z.string().max(1000),
});

export const agentConfigSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
  persona: z.string().max(8000),
  greeting: z.string().min(1).max(500),
  voice: z.string().max(100).default('Polly.Joanna'),
  language: z.string().max(20).default('en-US'),
  model: z
    .object({
      name: z.string().max(200).optional(),
      maxTokens: z.number().int().min(16).max(4096).default(300),
      temperature: z.number().min(0).max(2).default(0.3),
      turnBudgetMs: z.number().int().min(500).max(14_000).default(8000),
    })
    .default({ maxTokens: 300, temperature: 0.3, turnBudgetMs: 8000 }),
  tools: z.array(z.enum(['transfer_call', 'end_call', 'route_department', 'lookup_faq'])).default([]),
  /** Human transfer number of this agent; falls back to HUMAN_TRANSFER_NUMBER. */
  transferNumber: e164.optional(),
  /** Engine of this agent's stream calls; falls back to STREAM_ENGINE. */
  streamEngine: z.enum(['pipeline', 'realtime']).optional(),
  /** Speech-to-speech (STREAM_ENGINE=realtime): the model's voice (default marin) and, optionally, instructions replacing the persona. */
  realtime: z
    .object({
      voice: z.string().min(1).max(100).optional(),
      instructions: z.string().max(8000).optional(),
    })
    .optional(),
  departments: z.array(departmentSchema).max(20).default([]),
  faq: z.array(faqSchema).max(500).default([]),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type DepartmentConfig = z.infer<typeof departmentSchema>;
export type FaqEntry = z.infer<typeof faqSchema>;

/** Reads and validates the agents file; a bad file stops the process with the offending path. */
export function readAgentsFile(path: string): AgentConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`AGENTS_FILE ${path} cannot be read: ${(err as Error).message}`);
  }
  const parsed = z.object({ agents: z.array(agentConfigSchema).min(1) }).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`AGENTS_FILE ${path} is invalid at ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data.agents;
}
