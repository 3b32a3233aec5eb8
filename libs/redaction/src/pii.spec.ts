import { describe, expect, it } from '@jest/globals';
import { luhnValid, parsePiiTypes, redactPii } from './pii.js';

const r = (text: string, types?: string) => redactPii(text, types ? parsePiiTypes(types) : undefined);

describe('redactPii', () => {
  it.each([
    ['my card is 4111 1111 1111 1111 expiring soon', 'my card is [card] expiring soon'],
    ['card number 4111-1111-1111-1111', 'card number [card]'],
    ['it is 4242424242424242', 'it is [card]'],
    ['four one one one, one one one one, one one one one, one one one one', '[card]'],
    ['sure it is four two four two four two four two four two four two four two four two thanks', 'sure it is [card] thanks'],
    ['the amex is 3782 822463 10005', 'the amex is [card]'],
    ['option 1 4111 1111 1111 1111', 'option 1 [card]'],
    ['triple five five, double five double five, five five five five, four four four four', '[card]'],
  ])('card: %s', (input, expected) => {
    expect(r(input)).toEqual({ text: expected, found: ['card'] });
  });

  it.each([
    ['my social is 123-45-6789', 'my social is [ssn]'],
    ['my social security number is one two three four five six seven eight nine', 'my social security number is [ssn]'],
    ['SSN 123 45 6789', 'SSN [ssn]'],
    ['it is one two three, four five, six seven eight nine', 'it is [ssn]'],
  ])('ssn: %s', (input, expected) => {
    expect(r(input)).toEqual({ text: expected, found: ['ssn'] });
  });

  it.each([
    ['my email is jane dot doe at example dot com', 'my email is [email]'],
    ['send it to jane.doe@example.com please', 'send it to [email] please'],
    ['it is j underscore smith at mail dot example dot co dot uk', 'it is [email]'],
    ['write to Bob.Smith+bills@Example.org.', 'write to [email].'],
  ])('email: %s', (input, expected) => {
    expect(r(input)).toEqual({ text: expected, found: ['email'] });
  });

  it.each([
    ['call me back at 555-123-4567', 'call me back at [phone]'],
    ['my number is (415) 555 0134', 'my number is [phone]'],
    ['it is +44 20 7946 0958', 'it is [phone]'],
    ['five five five, one two three, four five six seven', '[phone]'],
    ['my cell is four one five five five five oh one three four', 'my cell is [phone]'],
    ['1-800-555-0199 is our line', '[phone] is our line'],
    ['just dial 555-0134', 'just dial [phone]'],
  ])('phone: %s', (input, expected) => {
    expect(r(input)).toEqual({ text: expected, found: ['phone'] });
  });

  it.each([
    'my order number is 4111 1111 1111 1112',
    'order 1234567890123456 has not arrived',
    'my order number is four one one one one one one one one one one one one one one two',
    'the tracking number is four one one one, one one one one, one one one one, one one one two',
    'reference 1234 5678 9012 3456 please',
    'the meeting is at 10:30 tomorrow',
    'can we do half past three or four',
    'it costs $1,299.99',
    'I paid 2,450,000,000 dollars',
    'I need help with my bill',
    'oh no, one moment',
    'I have one question and two complaints',
    'we are at the office on 5th avenue',
    'my zip code is 94107',
    'the reference is 12345678',
    'I arrived at nine and left at five',
    'meet me at home dot',
    'is it 2 or 3',
    '[card] and [email] were removed',
    'call CA0123456789abcdef0123456789abcdef ended',
  ])('keeps near-miss: %s', (input) => {
    expect(r(input)).toEqual({ text: input, found: [] });
  });

  it('redacts several types at once and reports each once, in order', () => {
    expect(r('card 4111111111111111, email a at b dot com, card 5555555555554444')).toEqual({
      text: 'card [card], email [email], card [card]',
      found: ['email', 'card'],
    });
  });

  it('only redacts the configured types', () => {
    expect(r('mail jane@example.com or call 555-123-4567', 'email')).toEqual({ text: 'mail [email] or call 555-123-4567', found: ['email'] });
    expect(redactPii('4111111111111111', new Set())).toEqual({ text: '4111111111111111', found: [] });
  });

  it('is idempotent', () => {
    const once = r('four one one one one one one one one one one one one one one one and jane at example dot com').text;
    expect(r(once)).toEqual({ text: once, found: [] });
  });

  it('rejects unknown types', () => {
    expect(() => parsePiiTypes('card,passport')).toThrow(/passport/);
  });

  it('checks Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
});
