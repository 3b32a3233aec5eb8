import { describe, expect, it } from '@jest/globals';
import { buildJsgf, grammarWords } from './jsgf-grammar.js';

describe('JSGF grammar', () => {
  it('keeps only words the dictionary knows, and combines leads with keywords', () => {
    const known = new Set(['i', 'need', 'help', 'with', 'my', 'bill', 'billing', 'please', 'what', 'are', 'your', 'opening', 'hours']);
    const jsgf = buildJsgf(
      { id: 'x', keywords: ['Billing', 'bill', 'zzzword'], leads: ['I need help with my'], phrases: ['What are your opening hours?', 'Unknown xyzzy'] },
      (w) => known.has(w),
    );
    expect(jsgf).toContain('public <utterance> = [<lead>] <keyword> [please] | <phrase>;');
    expect(jsgf).toContain('<keyword> = billing | bill;');
    expect(jsgf).toContain('<lead> = i need help with my;');
    expect(jsgf).toContain('<phrase> = what are your opening hours;');
    expect(jsgf).not.toContain('xyzzy');
  });

  it('refuses a grammar with no usable word', () => {
    expect(() => buildJsgf({ id: 'x', keywords: ['qqq'], leads: [], phrases: [] }, () => false)).toThrow(RangeError);
  });

  it('normalises text to dictionary words', () => {
    expect(grammarWords("You're through to BILLING, right?")).toEqual(["you're", 'through', 'to', 'billing', 'right']);
  });
});

describe('JSGF grammar with branches', () => {
  it('gives each kind of request its own slot, with optional openers, repeats and tails', () => {
    const known = (w: string) => w !== 'xyzzy';
    const jsgf = buildJsgf(
      {
        id: 'b', keywords: [], leads: [], phrases: ['Where are you located?'], openers: ['hi'],
        branches: [
          { leads: ["I'm calling about"], words: ['billing', 'refund'], tails: ['please'] },
          { leads: ['can i talk to'], words: ['a person', 'xyzzy'] },
          { words: ['goodbye', 'no thanks'], repeat: true, tails: ['thank you'] },
        ],
      },
      known,
    );
    expect(jsgf).toContain('public <utterance> = [<open>] ([<l0>] <w0> [<t0>] | [<l1>] <w1> | <w2> [<w2>] [<t2>] [<t2>] | <phrase>);');
    expect(jsgf).toContain("<l0> = i'm calling about;");
    expect(jsgf).toContain('<w1> = a person;');
    expect(jsgf).toContain('<open> = hi;');
    expect(jsgf).not.toContain('xyzzy');
  });
});
