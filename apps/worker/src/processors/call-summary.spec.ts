import { describe, expect, it } from '@jest/globals';
import { summarizeCall } from './call-summary.js';

const caller = (text: string) => ({ speaker: 'caller' as const, text, action: null, data: null });
const agent = (text: string, action: string, intent: string) => ({ speaker: 'agent' as const, text, action, data: { intent } });

describe('summarizeCall', () => {
  it('a person asked for with nobody available is never "resolved"', () => {
    const offered = [caller('a person please'), agent('No one is available… call you back?', 'say', 'callback_offered'), caller('no'), agent('Goodbye!', 'hangup', 'goodbye')];
    expect(summarizeCall('completed', offered).disposition).toBe('unresolved');
    const booked = [caller('a person please'), agent('No one is available… call you back?', 'say', 'callback_offered'), caller('yes'), agent('We will call you back.', 'say', 'callback'), caller('bye'), agent('Goodbye!', 'hangup', 'goodbye')];
    const outcome = summarizeCall('completed', booked);
    expect(outcome.disposition).toBe('callback_requested');
    expect(outcome.summary).toMatch(/Callback requested/);
  });

  it('a support conversation that ends with a ticket and a goodbye is resolved', () => {
    const turns = [caller('my internet is broken'), agent('When does it happen?', 'route', 'support'), caller('every evening'), agent('Ticket opened.', 'say', 'support'), caller('no'), agent('Goodbye!', 'hangup', 'goodbye')];
    expect(summarizeCall('completed', turns)).toMatchObject({ disposition: 'resolved', intent: 'support' });
  });
});
