import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenAI } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { abortReason, TurnCancelledError } from '../turn-errors.js';
import { ModelProtocolError, ModelStreamCutError, type ModelError } from './model-errors.js';
import { replyFromCompletion, StreamAssembler, type ModelReply } from './model-reply.js';
import { backoffDelay, classifyModelError, type BackoffOptions } from './retry-policy.js';
import { chunkSchema, completionSchema } from './wire-format.js';

export interface ModelRequest {
  model: string;
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionTool[];
  toolChoice?: ChatCompletionToolChoiceOption;
  maxTokens: number;
  temperature: number;
}

export interface ModelCallContext {
  /** Aborts the request at once (cancel or budget); its reason is rethrown. */
  signal: AbortSignal;
  /** Epoch ms: no attempt starts, and no backoff waits, past this. */
  deadline: number;
  /** Receives answer text as it arrives. */
  onText?: (text: string) => void;
}

/** How one model request (one attempt) ended; `retry` is counted when another attempt follows. */
export type ModelRequestOutcome = 'ok' | 'retry' | '429' | '5xx' | 'timeout' | 'cancelled' | 'error';

export interface ChatModelOptions {
  stream: boolean;
  /** Told of every attempt's outcome (metrics). */
  onRequest?: (outcome: ModelRequestOutcome) => void;
  /** Attempts per request, the first included. */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** An attempt is not started with less time than this left: it could not finish anyway. */
  minAttemptMs: number;
}

export const DEFAULT_CHAT_MODEL_OPTIONS: ChatModelOptions = {
  stream: true,
  maxAttempts: 4,
  backoff: { baseMs: 200, capMs: 2000 },
  minAttemptMs: 300,
};

/**
 * One Chat Completions request through the official client, with our own retries: the client's
 * are off (maxRetries 0) because they know nothing of the turn budget. A retry happens only
 * on a retryable failure, before any text reached `onText` (a half-spoken answer cannot be
 * taken back), and only if the backoff still leaves time for an attempt within the deadline.
 */
export class ChatModel {
  constructor(
    private readonly client: OpenAI,
    private readonly options: ChatModelOptions = DEFAULT_CHAT_MODEL_OPTIONS,
  ) {}

  async complete(request: ModelRequest, context: ModelCallContext): Promise<ModelReply & { attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      let streamed = false;
      const onText = (text: string) => {
        streamed = true;
        context.onText?.(text);
      };
      try {
        const reply = await this.attempt(request, context.signal, context.deadline, onText);
        this.options.onRequest?.('ok');
        return { ...reply, attempts: attempt };
      } catch (raw) {
        if (context.signal.aborted) {
          this.options.onRequest?.(abortReason(context.signal) instanceof TurnCancelledError ? 'cancelled' : 'timeout');
          throw abortReason(context.signal);
        }
        const err = classifyModelError(raw);
        this.options.onRequest?.(requestOutcome(err));
        const delay = Math.max(err.retryAfterMs ?? 0, backoffDelay(attempt, this.options.backoff));
        const fits = Date.now() + delay + this.options.minAttemptMs < context.deadline;
        if (!err.retryable || streamed || attempt >= this.options.maxAttempts || !fits) throw err;
        this.options.onRequest?.('retry');
        await sleep(delay, undefined, { signal: context.signal }).catch(() => {
          throw abortReason(context.signal);
        });
      }
    }
  }

  private async attempt(request: ModelRequest, signal: AbortSignal, deadline: number, onText: (text: string) => void): Promise<ModelReply> {
    const body = {
      model: request.model,
      messages: request.messages,
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      ...(request.tools?.length ? { tools: request.tools, tool_choice: request.toolChoice ?? 'auto' } : {}),
    };
    // The deadline is enforced by `signal`; the client's own timeout is only a backstop.
    const options = { signal, maxRetries: 0, timeout: Math.max(1000, deadline - Date.now() + 1000) };
    if (!this.options.stream) {
      const raw: unknown = await this.client.chat.completions.create({ ...body, stream: false }, options);
      const parsed = completionSchema.safeParse(raw);
      if (!parsed.success) throw new ModelProtocolError(`unexpected completion shape: ${parsed.error.issues[0]?.message}`, true);
      const reply = replyFromCompletion(parsed.data);
      if (reply.content) onText(reply.content);
      return reply;
    }

    const stream = await this.client.chat.completions.create({ ...body, stream: true }, options);
    const assembler = new StreamAssembler();
    try {
      for await (const raw of stream) {
        const chunk = chunkSchema.safeParse(raw);
        if (!chunk.success) throw new ModelProtocolError(`unexpected chunk shape: ${chunk.error.issues[0]?.message}`, true);
        const text = assembler.add(chunk.data);
        if (text) onText(text);
        if (assembler.clipped) {
          stream.controller.abort(); // long enough for a spoken answer: stop paying for tokens
          break;
        }
      }
    } catch (err) {
      if (signal.aborted) throw abortReason(signal);
      // Text already went out to the caller: keep it rather than retry into a different answer.
      if (assembler.hasContent) return assembler.partial();
      throw err;
    }
    // The client ends iteration quietly when the request is aborted.
    if (signal.aborted) throw abortReason(signal);
    if (!assembler.finishReason && !assembler.clipped) {
      if (assembler.hasContent) return assembler.partial();
      throw new ModelStreamCutError('model stream ended before the answer was finished', true);
    }
    return assembler.reply();
  }
}

function requestOutcome(err: ModelError): ModelRequestOutcome {
  if (err.status === 429) return '429';
  if (err.status !== undefined && err.status >= 500) return '5xx';
  if (err.status === 408 || /timed out/.test(err.message)) return 'timeout';
  return 'error';
}
