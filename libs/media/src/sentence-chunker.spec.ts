import { describe, expect, it } from '@jest/globals';
import { SentenceChunker } from './sentence-chunker.js';

describe('SentenceChunker', () => {
  it('emits a sentence once the next one has started, and the rest at flush', () => {
    const c = new SentenceChunker();
    expect(c.push("You're through to billing.")).toEqual([]);
    expect(c.push(' What would')).toEqual(["You're through to billing."]);
    expect(c.push(' you like to know? Thanks')).toEqual(['What would you like to know?']);
    expect(c.flush()).toBe('Thanks');
    expect(c.flush()).toBeUndefined();
  });

  it('does not split a decimal number and cuts runaway text at a space', () => {
    const c = new SentenceChunker(20);
    expect(c.push('It costs 3.5 dollars')).toEqual([]);
    expect(c.push(' a month for')).toEqual(['It costs 3.5 dollars']);
    expect(c.flush()).toBe('a month for');
  });
});
