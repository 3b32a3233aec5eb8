import { z } from 'zod';

/**
 * What we accept from an OpenAI-compatible server. The server (and the model behind it) is
 * untrusted: anything that does not match is a protocol error, not a crash further down.
 * Unknown fields are ignored, since every compatible server adds its own.
 */
const toolCall = z.object({
  id: z.string().max(200).optional(),
  type: z.string().optional(),
  function: z.object({ name: z.string().max(100), arguments: z.string().nullish() }),
});

export const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), tool_calls: z.array(toolCall).nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
});

const deltaToolCall = z.object({
  index: z.number().int().min(0).max(63),
  id: z.string().max(200).nullish(),
  function: z.object({ name: z.string().max(100).nullish(), arguments: z.string().nullish() }).nullish(),
});

export const chunkSchema = z.object({
  choices: z.array(
    z.object({
      delta: z.object({ content: z.string().nullish(), tool_calls: z.array(deltaToolCall).nullish() }).nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
});

export type CompletionWire = z.infer<typeof completionSchema>;
export type ChunkWire = z.infer<typeof chunkSchema>;
