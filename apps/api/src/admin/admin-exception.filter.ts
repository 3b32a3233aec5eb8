import { randomUUID } from 'node:crypto';
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

/**
 * The admin API's one error mapping: HttpExceptions pass through, typed service errors get
 * their status, anything else is a 500 carrying an error id that is also in the log line.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      res.status(exception.getStatus()).json(typeof body === 'string' ? { statusCode: exception.getStatus(), message: body } : body);
      return;
    }
    const status = exception instanceof Error ? STATUS.get(exception.constructor) : undefined;
    if (status) {
      const extra = exception instanceof OutboundCallRejectedError && exception.twilioCode ? { twilioCode: exception.twilioCode } : {};
      res.status(status).json({ statusCode: status, message: (exception as Error).message, ...extra });
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
    res.status(500).json({ statusCode: 500, message: 'Internal server error', errorId });
  }
}
