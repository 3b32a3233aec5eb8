/** Errors of the admin API's services; AdminExceptionFilter maps them to HTTP statuses. */

export class CallNotFoundError extends Error {
  override name = 'CallNotFoundError';
  constructor(readonly callSid: string) {
    super(`call ${callSid} not found`);
  }
}

/** Erasing a call still in progress would be undone by the turns that are still to be written. */
export class CallInProgressError extends Error {
  override name = 'CallInProgressError';
  constructor(readonly callSid: string) {
    super(`call ${callSid} is still in progress; erase it once it has ended`);
  }
}

/** A cursor that was not issued by us, or for another query. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

/** A combination of query parameters that cannot be answered (each one valid on its own). */
export class InvalidQueryError extends Error {
  override name = 'InvalidQueryError';
}

export class ApiKeyNotFoundError extends Error {
  override name = 'ApiKeyNotFoundError';
}

/** Twilio refused the outbound call (bad number, unverified caller id …): the operator can fix it. */
export class OutboundCallRejectedError extends Error {
  override name = 'OutboundCallRejectedError';
  constructor(
    message: string,
    readonly twilioCode?: number,
  ) {
    super(message);
  }
}

/** Twilio could not be reached or failed on its side. */
export class TwilioUnavailableError extends Error {
  override name = 'TwilioUnavailableError';
}
