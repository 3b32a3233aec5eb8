import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AgentConfig } from '../agent-config.js';
import type { AgentDecision, AgentProvider, AgentTurnRequest, CallSummaryRequest, TokenSink } from '../agent.types.js';
import { TurnBudgetExceededError } from '../turn-errors.js';
import type { ChatModel } from './chat-model.js';
import { ModelProtocolError, ModelStreamCutError } from './model-errors.js';
import type { ModelReply } from './model-reply.js';
import { buildMessages, completeSentences, speakable, summaryMessages } from './prompt.js';
import { runTool, strongestAction, toolDefinitions, type ToolOutcome, type ToolRecord } from './tools.js';

/**
 * Model rounds per turn: a lookup_faq answer needs a second round, and a third lets the model
 * recover from a tool call it got wrong. The last round may not call tools.
 */
const MAX_ROUNDS = 3;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
/** A post-call summary is not urgent, but a job should not wait on a model forever. */
const SUMMARY_BUDGET_MS = 15_000;

export interface OpenAiAgentOptions {
  /** Model used when the agent names none (OPENAI_MODEL). */
  model: string;
  /** HUMAN_TRANSFER_NUMBER, for agents without their own transfer number. */
  fallbackTransferNumber?: string;
}

/**
 * An agent backed by any OpenAI-compatible Chat Completions endpoint: the agent's persona and
 * the bounded conversation go in, the answer streams out through `onToken`, and the model's
 * tool calls (validated) become the turn's action. Everything the model returns is untrusted.
 */
export class OpenAiAgent implements AgentProvider {
  readonly name = 'openai';

  constructor(
    private readonly agents: (name: string) => AgentConfig,
    private readonly chat: ChatModel,
    private readonly options: OpenAiAgentOptions,
  ) {}

  async respond(request: AgentTurnRequest, signal: AbortSignal, onToken?: TokenSink): Promise<AgentDecision> {
    const agent = this.agents(request.agentName);
    const deadline = request.deadline ?? Date.now() + agent.model.turnBudgetMs;
    const turn = withDeadline(signal, deadline, agent.model.turnBudgetMs);
    try {
      return await this.converse(agent, request, turn.signal, deadline, onToken);
    } finally {
      turn.dispose();
    }
  }

  async summarize(request: CallSummaryRequest, signal: AbortSignal): Promise<string> {
    const agent = this.agents(request.agentName);
    const deadline = Date.now() + SUMMARY_BUDGET_MS;
    const turn = withDeadline(signal, deadline, SUMMARY_BUDGET_MS);
    try {
      const reply = await this.chat.complete(
        { model: agent.model.name ?? this.options.model, messages: summaryMessages(request), maxTokens: 150, temperature: 0 },
        { signal: turn.signal, deadline },
      );
      const summary = speakable(reply.cut ? completeSentences(reply.content) : reply.content, 1000);
      if (!summary) throw new ModelProtocolError('the model wrote no summary', false);
      return summary;
    } finally {
      turn.dispose();
    }
  }

  private async converse(agent: AgentConfig, request: AgentTurnRequest, signal: AbortSignal, deadline: number, onToken?: TokenSink): Promise<AgentDecision> {
    signal.throwIfAborted();
    const messages = buildMessages(agent, request);
    const tools = toolDefinitions(agent);
    const context = { agent, transferTo: agent.transferNumber ?? this.options.fallbackTransferNumber };
    const spoken: string[] = [];
    const records: ToolRecord[] = [];

    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const reply = await this.chat.complete(
        {
          model: agent.model.name ?? this.options.model,
          messages,
          tools,
          toolChoice: round === MAX_ROUNDS ? 'none' : 'auto',
          maxTokens: agent.model.maxTokens,
          temperature: agent.model.temperature,
        },
        { signal, deadline, onText: onToken && this.tokenSink(onToken, spoken.length > 0) },
      );
      if (reply.cut) {
        // The stream broke off after text went out: finish on the last complete sentence.
        const complete = completeSentences(reply.content);
        if (!complete) throw new ModelStreamCutError('model stream broke off before a complete sentence', false);
        spoken.push(complete);
        return this.decision(request, spoken, records, undefined, true);
      }
      if (reply.content.trim()) spoken.push(reply.content);
      const calls = round === MAX_ROUNDS ? [] : reply.toolCalls;
      if (calls.length === 0) break;

      const outcomes = calls.map((call) => runTool(call, context));
      records.push(...outcomes.map((o) => o.record));
      const action = strongestAction(outcomes);
      if (action) return this.decision(request, spoken, records, action);
      messages.push(...toolRoundMessages(reply, outcomes));
    }
    return this.decision(request, spoken, records);
  }

  private decision(
    request: AgentTurnRequest,
    spoken: string[],
    tools: ToolRecord[],
    action?: Extract<ToolOutcome, { kind: 'action' }>,
    truncated = false,
  ): AgentDecision {
    const say = speakable(spoken.join(' ')) || action?.say;
    if (!say) throw new ModelProtocolError('the model gave no answer', false);
    const department = action?.department ?? request.state.department;
    return {
      say,
      action: action?.action ?? 'say',
      department: action?.department,
      transferTo: action?.transferTo,
      intent: action?.intent ?? (tools.some((t) => t.name === 'lookup_faq') ? 'faq' : department),
      state: { ...request.state, department, unclear: 0, offeredHuman: false },
      tools: tools.length ? tools : undefined,
      truncated: truncated || undefined,
    };
  }

  /** Streams text on, without control characters, with a space between the texts of two rounds. */
  private tokenSink(onToken: TokenSink, afterEarlierText: boolean): (text: string) => void {
    let separate = afterEarlierText;
    return (text) => {
      if (separate) onToken(' ');
      separate = false;
      onToken(text.replace(CONTROL, ' '));
    };
  }
}

/** The assistant's tool calls and their results, as the next round's messages. */
function toolRoundMessages(reply: ModelReply, outcomes: ToolOutcome[]): ChatCompletionMessageParam[] {
  const calls = reply.toolCalls.slice(0, outcomes.length);
  return [
    {
      role: 'assistant',
      content: reply.content || null,
      tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
    },
    ...calls.map((c, i) => ({ role: 'tool' as const, tool_call_id: c.id, content: outcomes[i].record.result ?? 'done' })),
  ];
}

/** `parent`, plus an abort at `deadline` whose reason is a TurnBudgetExceededError. */
function withDeadline(parent: AbortSignal, deadline: number, budgetMs: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const forward = () => controller.abort(parent.reason);
  if (parent.aborted) forward();
  else parent.addEventListener('abort', forward, { once: true });
  const timer = setTimeout(() => controller.abort(new TurnBudgetExceededError(budgetMs)), Math.max(0, deadline - Date.now()));
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', forward);
    },
  };
}
