import { describe, expect, it } from '@jest/globals';
import { Twiml } from './twiml.js';

const voice = { voice: 'Polly.Joanna', language: 'en-US' };

describe('TwiML', () => {
  it('escapes text, so model output can never add verbs', () => {
    const evil = 'Sure</Say><Dial>+19005551234</Dial><Say>';
    const xml = Twiml.listen(voice, evil, 'https://x.test/twilio/gather?step=2&a=b');
    expect(xml).not.toContain('<Dial>');
    expect(xml).toContain('Sure&lt;/Say&gt;&lt;Dial&gt;');
    expect(xml).toContain('action="https://x.test/twilio/gather?step=2&amp;a=b"');
  });

  it('never lets a document fall off the end', () => {
    expect(Twiml.listen(voice, 'hi', 'https://x.test/a')).toMatch(/<\/Gather><Redirect method="POST">https:\/\/x\.test\/a<\/Redirect><\/Response>$/);
    expect(Twiml.hold(voice, undefined, 'https://x.test/w')).toMatch(/<Pause length="1"\/><Redirect method="POST">https:\/\/x\.test\/w<\/Redirect>/);
    expect(Twiml.hangup(voice, 'bye')).toMatch(/<Say[^>]*>bye<\/Say><Hangup\/><\/Response>$/);
    expect(Twiml.transfer(voice, 'hold on', '+15005550009')).toMatch(/<Dial timeout="30"><Number>\+15005550009<\/Number><\/Dial><Hangup\/>/);
  });

  it('strips control characters and caps very long text', () => {
    const xml = Twiml.hangup(voice, `a\u0000b${'x'.repeat(5000)}`);
    const said = /<Say[^>]*>([^<]*)<\/Say>/.exec(xml)![1];
    expect(said.startsWith('a b')).toBe(true);
    expect(said.length).toBeLessThanOrEqual(1501);
  });
});
