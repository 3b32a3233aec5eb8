import { z } from 'zod';
import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import type { AgentConfig } from '../agent-config.js';
import type { AgentAction } from '../agent.types.js';
import { bestFaq, tokenize } from '../faq-search.js';
import type { ModelToolCall } from './model-reply.js';

export type ToolName = AgentConfig['tools'][number];

/** A tool call as stored in the transcript (name, validated arguments, result). */
export interface ToolRecord {
  name: string;
  args: Record<string, unknown>;
  result?: string;
}

/** What running one tool call means for the turn. */
export type ToolOutcome =
  | { kind: 'result'; record: ToolRecord }
  | { kind: 'action'; record: ToolRecord; action: Exclude<AgentAction, 'say'>; say: string; intent: string; transferTo?: string; department?: string };

export interface ToolContext {
  agent: AgentConfig;
  /** Human transfer number: the agent's own, else HUMAN_TRANSFER_NUMBER. */
  transferTo?: string;
}

const reason = z.string().max(300).optional();

/** Argument schemas. The model's arguments are untrusted: parsed, size-capped, checked against the agent's config. */
function argSchemas(agent: AgentConfig) {
  const departments = agent.departments.map((d) => d.name);
  const department = departments.length ? z.enum(departments as [string, ...string[]]) : z.never();
  return {
    transfer_call: z.object({ target: z.union([z.literal('human'), department]).default('human'), reason }),
    end_call: z.object({ reason }),
    route_department: z.object({ department }),
    lookup_faq: z.object({ question: z.string().trim().min(1).max(500) }),
  } satisfies Record<ToolName, z.ZodType>;
}

/** The function definitions offered to the model: only the tools the agent may use. */
export function toolDefinitions(agent: AgentConfig): ChatCompletionFunctionTool[] {
  const departments = agent.departments.map((d) => d.name);
  const all: Record<ToolName, ChatCompletionFunctionTool['function']> = {
    transfer_call: {
      name: 'transfer_call',
      description: 'Transfer the caller to a person (target "human") or to a department line. Use when the caller asks for a person.',
      parameters: {
        type: 'object',
        properties: { target: { type: 'string', enum: ['human', ...departments] }, reason: { type: 'string', maxLength: 300 } },
        required: ['target'],
      },
    },
    end_call: {
      name: 'end_call',
      description: 'Say goodbye and hang up. Use only when the caller is done.',
      parameters: { type: 'object', properties: { reason: { type: 'string', maxLength: 300 } } },
    },
    route_department: {
      name: 'route_department',
      description: `Route the caller to a department: ${agent.departments.map((d) => `${d.name} (${d.description})`).join('; ')}.`,
      parameters: { type: 'object', properties: { department: { type: 'string', enum: departments } }, required: ['department'] },
    },
    lookup_faq: {
      name: 'lookup_faq',
      description: "Look up the answer to a common question (opening hours, address, passwords, payment methods …) in the company's FAQ.",
      parameters: { type: 'object', properties: { question: { type: 'string', maxLength: 500 } }, required: ['question'] },
    },
  };
  return agent.tools.filter((name) => name !== 'route_department' || departments.length).map((name) => ({ type: 'function', function: all[name] }));
}

/**
 * Validates and runs one tool call. A call the agent may not make, or with invalid arguments,
 * becomes an error result the model can read and correct, never an action.
 */
export function runTool(call: ModelToolCall, context: ToolContext): ToolOutcome {
  const { agent } = context;
  const name = call.name as ToolName;
  if (!agent.tools.includes(name)) return invalid(call.name.slice(0, 32), {}, `unknown tool ${call.name.slice(0, 32)}`);
  let raw: unknown;
  try {
    raw = call.arguments.trim() ? JSON.parse(call.arguments) : {};
  } catch {
    return invalid(name, {}, 'arguments are not valid JSON');
  }
  const parsed = argSchemas(agent)[name].safeParse(raw);
  if (!parsed.success) return invalid(name, {}, `invalid arguments: ${parsed.error.issues[0]?.message ?? 'rejected'}`.slice(0, 200));
  const args = parsed.data as Record<string, string | undefined>;
  const record: ToolRecord = { name, args: definedOnly(args) };

  switch (name) {
    case 'lookup_faq': {
      const entry = bestFaq(agent.faq, tokenize(args.question!));
      return { kind: 'result', record: { ...record, result: entry ? entry.answer : 'No FAQ entry matches this question.' } };
    }
    case 'end_call':
      return { kind: 'action', record, action: 'hangup', say: 'Thank you for calling. Goodbye!', intent: 'goodbye' };
    case 'route_department': {
      const department = agent.departments.find((d) => d.name === args.department)!;
      if (department.number) {
        return { kind: 'action', record, action: 'transfer', say: `Connecting you to ${department.name} now.`, intent: department.name, department: department.name, transferTo: department.number };
      }
      return { kind: 'action', record, action: 'route', say: department.welcome, intent: department.name, department: department.name };
    }
    case 'transfer_call': {
      const department = agent.departments.find((d) => d.name === args.target);
      // A department without a line of its own is served here: that is a route, not a failed transfer.
      if (department && !department.number) {
        return { kind: 'action', record, action: 'route', say: department.welcome, intent: department.name, department: department.name };
      }
      const to = department ? department.number : context.transferTo;
      if (!to) return { kind: 'result', record: { ...record, result: 'No one is available to take the call; offer to help directly instead.' } };
      return {
        kind: 'action', record: { ...record, result: 'transferring' }, action: 'transfer',
        say: 'Please hold while I connect you to a member of our team.',
        intent: department?.name ?? 'human', department: department?.name, transferTo: to,
      };
    }
  }
}

/** When the model asks for several actions at once, the strongest one wins. */
const ACTION_RANK: Record<Exclude<AgentAction, 'say'>, number> = { transfer: 3, route: 2, hangup: 1 };

export function strongestAction(outcomes: ToolOutcome[]): Extract<ToolOutcome, { kind: 'action' }> | undefined {
  return outcomes
    .filter((o): o is Extract<ToolOutcome, { kind: 'action' }> => o.kind === 'action')
    .sort((a, b) => ACTION_RANK[b.action] - ACTION_RANK[a.action])[0];
}

function invalid(name: string, args: Record<string, unknown>, error: string): ToolOutcome {
  return { kind: 'result', record: { name, args, result: `error: ${error}` } };
}

function definedOnly(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}
