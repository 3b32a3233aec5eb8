import { describe, expect, it } from '@jest/globals';
import { heardPrefix } from './heard-text.js';

describe('heardPrefix', () => {
  const text = 'Thanks for calling Acme. How can I help you today?';

  it('keeps all of it when everything sent was played, none when nothing was', () => {
    expect(heardPrefix(text, 3000, 3000)).toBe(text);
    expect(heardPrefix(text, 5000, 3000)).toBe(text);
    expect(heardPrefix(text, 0, 3000)).toBe('');
    expect(heardPrefix('', 100, 3000)).toBe('');
  });

  it('keeps the same share of the words as of the audio, cut back to a whole word', () => {
    const half = heardPrefix(text, 1500, 3000);
    expect(text.startsWith(half)).toBe(true);
    expect(half).toBe('Thanks for calling Acme.');
    expect(heardPrefix(text, 200, 3000)).toBe('');
    expect(heardPrefix(text, 400, 3000)).toBe('Thanks');
  });
});
