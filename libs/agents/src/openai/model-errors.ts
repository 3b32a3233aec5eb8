/** Failures of one model request. `retryable` says whether another attempt may succeed. */
export class ModelError extends Error {
  override name = 'ModelError';
  /** HTTP status of the failed response, when there was one. */
  readonly status?: number;
  /** How long the server asked us to wait (Retry-After / retry-after-ms). */
  readonly retryAfterMs?: number;

  constructor(
    message: string,
    readonly retryable: boolean,
    options: { cause?: unknown; status?: number; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The server answered something that is not the Chat Completions wire format (bad JSON, wrong shape). */
export class ModelProtocolError extends ModelError {
  override name = 'ModelProtocolError';
}

/** The response stream ended before the model said it was finished. */
export class ModelStreamCutError extends ModelError {
  override name = 'ModelStreamCutError';
}
