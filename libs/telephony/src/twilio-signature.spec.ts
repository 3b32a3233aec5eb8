import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { isValidTwilioSignature, requestedUrl, signTwilioRequest } from './twilio-signature.js';

const token = '12345678901234567890123456789012';
const url = 'https://voice.example.com/twilio/voice?mode=gather';
const params = { CallSid: 'CA1', From: '+15005550006', Digits: '1', AccountSid: 'AC1' };

/** Twilio's documented algorithm, written out independently of twilio-node. */
function reference(u: string, p: Record<string, string>): string {
  const data = Object.keys(p).sort().reduce((acc, k) => acc + k + p[k], u);
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

describe('Twilio signatures', () => {
  it('match the documented algorithm', () => {
    expect(signTwilioRequest(token, url, params)).toBe(reference(url, params));
    expect(isValidTwilioSignature(token, reference(url, params), url, params)).toBe(true);
  });

  it('reject tampering, other URLs, other tokens, and garbage', () => {
    const good = reference(url, params);
    expect(isValidTwilioSignature(token, good, url, { ...params, Digits: '2' })).toBe(false);
    expect(isValidTwilioSignature(token, good, 'https://voice.example.com/twilio/voice', params)).toBe(false);
    expect(isValidTwilioSignature('x'.repeat(32), good, url, params)).toBe(false);
    expect(isValidTwilioSignature(token, undefined, url, params)).toBe(false);
    expect(isValidTwilioSignature(token, good, 'not a url', params)).toBe(false);
  });

  it('accept the URL signed with the default port', () => {
    const signed = reference('https://voice.example.com:443/twilio/voice?mode=gather', params);
    expect(isValidTwilioSignature(token, signed, url, params)).toBe(true);
  });

  it('build the URL from the public base, ignoring forwarded headers unless trusted', () => {
    const headers = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' };
    expect(requestedUrl('https://voice.example.com', '/twilio/voice?mode=x', false, headers)).toBe('https://voice.example.com/twilio/voice?mode=x');
    expect(requestedUrl('https://voice.example.com', '/twilio/voice', true, headers)).toBe('http://evil.example/twilio/voice');
    expect(requestedUrl('https://voice.example.com', '/twilio/media', false, {}, 'ws')).toBe('wss://voice.example.com/twilio/media');
  });
});
