import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { maskPhoneNumbers } from '#libs/logging';
import {
  ApiKeyNotFoundError, CallInProgressError, CallNotFoundError, InvalidCursorError, InvalidQueryError, OutboundCallRejectedError, TwilioUnavailableError,
} from './admin-errors.js';

const STATUS = new Map<Function, number>([
  [CallNotFoundError, 404],
  [ApiKeyNotFoundError, 404],
  [CallInProgressError, 409],
  [InvalidCursorError, 400],
  [InvalidQueryError, 400],
  [OutboundCallRejectedError, 422],
  [TwilioUnavailableError, 502],
]);

/** The reason phrase of a status, as the `error` field of every error body. */
const reason = (status: number) => STATUS_CODES[status] ?? 'Error';

/**
 * The admin API's one error mapping and one body shape (`statusCode`, `error`, `message` — a
 * string or one string per invalid parameter; see ErrorDto): HttpExceptions keep their status
 * and message, typed service errors get their status, anything else is a 500 carrying an error
 * id that is also in the log line.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const fields = typeof body === 'string' ? { message: body } : (body as Record<string, unknown>);
      res.status(status).json({ ...fields, statusCode: status, error: reason(status), message: fields.message ?? reason(status) });
      return;
    }
    const status = exception instanceof Error ? STATUS.get(exception.constructor) : undefined;
    if (status) {
      const extra = exception instanceof OutboundCallRejectedError && exception.twilioCode ? { twilioCode: exception.twilioCode } : {};
      res.status(status).json({ statusCode: status, error: reason(status), message: (exception as Error).message, ...extra });
      if (status >= 500) this.logger.warn({ path: req.path, err: (exception as Error).message }, 'admin request failed upstream');
      return;
    }
    const errorId = randomUUID();
    // The logger masks numbers in strings but passes Error objects through: flatten and mask here.
    const err = exception instanceof Error ? { name: exception.name, message: exception.message, stack: exception.stack } : { message: String(exception) };
    this.logger.error(
      { errorId, method: req.method, path: req.path, err: { ...err, message: maskPhoneNumbers(err.message), stack: err.stack && maskPhoneNumbers(err.stack) } },
      'admin request failed',
    );
    res.status(500).json({ statusCode: 500, error: reason(500), message: 'Internal server error', errorId });
  }
}
