import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { ModelError, ModelProtocolError, ModelStreamCutError } from './model-errors.js';

/** Statuses worth another attempt: throttling, timeouts, conflicts and server faults. */
const RETRYABLE_STATUS = new Set([408, 409, 429]);

/** Turns whatever the client threw into a typed ModelError that says whether to retry. */
export function classifyModelError(err: unknown): ModelError {
  if (err instanceof ModelError) return err;
  if (err instanceof APIConnectionTimeoutError) return new ModelError('model request timed out', true, { cause: err });
  if (err instanceof APIConnectionError) return new ModelError(`model connection failed: ${err.message}`, true, { cause: err });
  if (err instanceof APIError) {
    const status = err.status;
    // An error event inside a stream has no status: the server failed mid-answer.
    if (status === undefined) return new ModelProtocolError(`model stream error: ${err.message}`, true, { cause: err });
    const retryable = RETRYABLE_STATUS.has(status) || status >= 500;
    return new ModelError(`model answered ${status}: ${err.message.slice(0, 200)}`, retryable, {
      cause: err,
      status,
      retryAfterMs: retryAfter(err.headers),
    });
  }
  // By name: the SyntaxError may come from another realm (undici's response.json()).
  if ((err as Error)?.name === 'SyntaxError') return new ModelProtocolError(`model sent malformed JSON: ${(err as Error).message}`, true, { cause: err });
  // undici reports a connection closed mid-body as a TypeError ("terminated").
  return new ModelStreamCutError(`model response broke off: ${(err as Error)?.message ?? String(err)}`, true, { cause: err });
}

/** Retry-After in ms (`retry-after-ms`, or `retry-after` in seconds or as an HTTP date). */
export function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

export interface BackoffOptions {
  /** Delay before the first retry (before jitter). */
  baseMs: number;
  /** Longest delay between two attempts. */
  capMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries
 * from many workers after one 429 spread out instead of arriving together.
 */
export function backoffDelay(attempt: number, { baseMs, capMs }: BackoffOptions, random = Math.random): number {
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}
