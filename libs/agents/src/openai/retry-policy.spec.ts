import { describe, expect, it } from '@jest/globals';
import { APIConnectionTimeoutError, APIError } from 'openai';
import { ModelProtocolError, ModelStreamCutError } from './model-errors.js';
import { backoffDelay, classifyModelError, retryAfter } from './retry-policy.js';

const headers = (h: Record<string, string>) => new Headers(h);

describe('classifyModelError', () => {
  it.each([
    [429, true],
    [408, true],
    [500, true],
    [503, true],
    [400, false],
    [401, false],
    [404, false],
  ])('HTTP %i is retryable: %s', (status, retryable) => {
    const err = classifyModelError(APIError.generate(status, { message: 'x' }, 'x', headers({})));
    expect(err.retryable).toBe(retryable);
    expect(err.status).toBe(status);
  });

  it('keeps the server-requested wait of a 429', () => {
    expect(classifyModelError(APIError.generate(429, {}, 'slow down', headers({ 'retry-after-ms': '250' }))).retryAfterMs).toBe(250);
  });

  it('timeouts, malformed JSON and broken bodies are retryable', () => {
    expect(classifyModelError(new APIConnectionTimeoutError()).retryable).toBe(true);
    expect(classifyModelError(new SyntaxError('Unexpected end of JSON input'))).toBeInstanceOf(ModelProtocolError);
    expect(classifyModelError(new TypeError('terminated'))).toBeInstanceOf(ModelStreamCutError);
  });
});

describe('retryAfter', () => {
  it('reads retry-after-ms, then retry-after in seconds or as a date', () => {
    expect(retryAfter(headers({ 'retry-after-ms': '120', 'retry-after': '9' }))).toBe(120);
    expect(retryAfter(headers({ 'retry-after': '2' }))).toBe(2000);
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    expect(retryAfter(headers({ 'retry-after': inTwoSeconds }))).toBeGreaterThan(500);
    expect(retryAfter(headers({}))).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const options = { baseMs: 200, capMs: 2000 };
  it('grows exponentially up to the cap, with half of each step random', () => {
    expect(backoffDelay(1, options, () => 0)).toBe(100);
    expect(backoffDelay(1, options, () => 1)).toBe(200);
    expect(backoffDelay(3, options, () => 0)).toBe(400);
    expect(backoffDelay(10, options, () => 1)).toBe(2000);
  });
});
