import { ModelProtocolError } from './model-errors.js';
import type { ChunkWire, CompletionWire } from './wire-format.js';

/** Longest answer text kept from one model response; beyond it the stream is stopped (a voice answer is short). */
export const MAX_CONTENT_CHARS = 2000;
/** Longest arguments string of one tool call, and most tool calls honoured per response. */
export const MAX_TOOL_ARGS_CHARS = 4000;
export const MAX_TOOL_CALLS = 8;

export interface ModelToolCall {
  id: string;
  name: string;
  /** Raw JSON text as the model wrote it: untrusted, validated by the tool it names. */
  arguments: string;
}

/** One model response, whether it was streamed or not. */
export interface ModelReply {
  content: string;
  toolCalls: ModelToolCall[];
  finishReason: string;
  /** The answer was cut to MAX_CONTENT_CHARS. */
  clipped: boolean;
  /** The stream broke off after some text: `content` is partial and tool calls are dropped. */
  cut?: boolean;
}

/** Assembles a streamed response from its chunks (content deltas, tool-call fragments by index). */
export class StreamAssembler {
  private content = '';
  private readonly calls = new Map<number, ModelToolCall>();
  finishReason: string | null = null;
  clipped = false;

  /** Adds a chunk; returns the new text to stream on, or '' (never more than the cap). */
  add(chunk: ChunkWire): string {
    let fresh = '';
    for (const choice of chunk.choices) {
      const delta = choice.delta;
      if (delta?.content) fresh += delta.content;
      for (const part of delta?.tool_calls ?? []) this.addToolPart(part);
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    const room = MAX_CONTENT_CHARS - this.content.length;
    if (fresh.length > room) {
      fresh = fresh.slice(0, Math.max(0, room));
      this.clipped = true;
    }
    this.content += fresh;
    return fresh;
  }

  get hasContent(): boolean {
    return this.content.length > 0;
  }

  /** What arrived before the stream broke off: the text only, since tool arguments may be incomplete. */
  partial(): ModelReply {
    return { content: this.content, toolCalls: [], finishReason: 'cut', clipped: false, cut: true };
  }

  reply(): ModelReply {
    return {
      content: this.content,
      toolCalls: [...this.calls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` })) // some servers omit ids
        .slice(0, MAX_TOOL_CALLS),
      finishReason: this.clipped ? 'length' : (this.finishReason ?? 'unknown'),
      clipped: this.clipped,
    };
  }

  private addToolPart(part: NonNullable<NonNullable<ChunkWire['choices'][number]['delta']>['tool_calls']>[number]): void {
    const call = this.calls.get(part.index) ?? { id: '', name: '', arguments: '' };
    if (part.id) call.id = part.id;
    if (part.function?.name) call.name += part.function.name;
    if (part.function?.arguments) call.arguments += part.function.arguments;
    if (call.arguments.length > MAX_TOOL_ARGS_CHARS) {
      throw new ModelProtocolError(`tool call arguments exceed ${MAX_TOOL_ARGS_CHARS} characters`, false);
    }
    this.calls.set(part.index, call);
  }
}

/** A whole (non-streamed) response as a ModelReply. */
export function replyFromCompletion(completion: CompletionWire): ModelReply {
  const choice = completion.choices[0];
  let content = choice.message.content ?? '';
  const clipped = content.length > MAX_CONTENT_CHARS;
  if (clipped) content = content.slice(0, MAX_CONTENT_CHARS);
  const toolCalls = (choice.message.tool_calls ?? []).slice(0, MAX_TOOL_CALLS).map((call, i) => {
    const args = call.function.arguments ?? '';
    if (args.length > MAX_TOOL_ARGS_CHARS) {
      throw new ModelProtocolError(`tool call arguments exceed ${MAX_TOOL_ARGS_CHARS} characters`, false);
    }
    return { id: call.id ?? `call_${i}`, name: call.function.name, arguments: args };
  });
  return { content, toolCalls, finishReason: choice.finish_reason ?? 'unknown', clipped };
}
