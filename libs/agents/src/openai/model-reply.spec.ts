import { describe, expect, it } from '@jest/globals';
import { ModelProtocolError } from './model-errors.js';
import { MAX_CONTENT_CHARS, StreamAssembler } from './model-reply.js';
import { completeSentences, speakable } from './prompt.js';

const delta = (d: Record<string, unknown>, finish: string | null = null) => ({ choices: [{ delta: d, finish_reason: finish }] });

describe('StreamAssembler', () => {
  it('joins content and tool-call fragments by index', () => {
    const a = new StreamAssembler();
    expect(a.add(delta({ content: 'One ' }))).toBe('One ');
    a.add(delta({ tool_calls: [{ index: 1, id: 'b', function: { name: 'end_call', arguments: '' } }] }));
    a.add(delta({ tool_calls: [{ index: 0, id: 'a', function: { name: 'lookup_', arguments: '{"quest' } }] }));
    a.add(delta({ tool_calls: [{ index: 0, function: { name: 'faq', arguments: 'ion":"x"}' } }] }));
    a.add(delta({}, 'tool_calls'));
    expect(a.reply()).toEqual({
      content: 'One ',
      toolCalls: [
        { id: 'a', name: 'lookup_faq', arguments: '{"question":"x"}' },
        { id: 'b', name: 'end_call', arguments: '' },
      ],
      finishReason: 'tool_calls',
      clipped: false,
    });
  });

  it('clips content at the cap and refuses oversized tool arguments', () => {
    const a = new StreamAssembler();
    a.add(delta({ content: 'x'.repeat(MAX_CONTENT_CHARS + 10) }));
    expect(a.clipped).toBe(true);
    expect(a.reply().content).toHaveLength(MAX_CONTENT_CHARS);
    const b = new StreamAssembler();
    expect(() => b.add(delta({ tool_calls: [{ index: 0, function: { name: 'f', arguments: 'y'.repeat(5000) } }] }))).toThrow(ModelProtocolError);
  });
});

describe('spoken text', () => {
  it('keeps complete sentences of a partial answer', () => {
    expect(completeSentences('Yes. You can pay by car')).toBe('Yes.');
    expect(completeSentences('Sure! Is that all? Then')).toBe('Sure! Is that all?');
    expect(completeSentences('Version 2.5 is')).toBe('');
  });

  it('removes markdown decoration and control characters', () => {
    expect(speakable('## **Hello**\u0000 `there`\n\n- now')).toBe('Hello there - now');
  });
});
