import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions } from './logger.js';
import { maskPhoneNumbers, redact } from './redact.js';

describe('redaction', () => {
  it('masks E.164 numbers, also URL-encoded, keeping a hint of the number', () => {
    expect(maskPhoneNumbers('call from +15005550006 to %2B441234567890')).toBe('call from +1********06 to %2B4*********90');
    expect(maskPhoneNumbers('order 12345 at 2026-11-26')).toBe('order 12345 at 2026-11-26');
  });

  it('replaces secrets and number fields wherever they are nested', () => {
    expect(
      redact({ headers: { authorization: 'Bearer sk_live', 'x-twilio-signature': 'abc' }, From: '+15005550006', nested: [{ token: 't', ok: 1 }] }),
    ).toEqual({ headers: { authorization: '[redacted]', 'x-twilio-signature': '[redacted]' }, From: '[redacted]', nested: [{ token: '[redacted]', ok: 1 }] });
  });

  it('applies to real log lines: fields, messages and request URLs', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = pino(loggerOptions('info', 'test'), sink);
    logger.info({ callSid: 'CA1', to: '+15005550001', apiKey: 'sk_123' }, 'dialling +15005550009');
    logger.info({ req: { method: 'GET', url: '/admin/calls?from=%2B15005550006' } }, 'request');
    const text = lines.join('');
    expect(text).not.toMatch(/5005550001|5005550009|5005550006|sk_123/);
    expect(text).toContain('CA1');
  });
});

describe('PII in log lines', () => {
  it('replaces card numbers, e-mail addresses and what a caller said or keyed', () => {
    expect(redact({ msg: 'heard jane dot doe at example dot com', SpeechResult: 'my card is 4111 1111 1111 1111', Digits: '1234' })).toEqual({
      msg: 'heard [email]',
      SpeechResult: '[redacted]',
      Digits: '[redacted]',
    });
    expect(redact('card 4111111111111111 on CA0123456789abcdef0123456789abcdef')).toBe('card [card] on CA0123456789abcdef0123456789abcdef');
  });
});
