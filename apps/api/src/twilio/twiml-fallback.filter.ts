import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SpeechCallService } from './speech-call.service.js';
import { readVoiceParams } from './twilio-params.js';

/**
 * Twilio routes always answer: a 4xx for requests that are not Twilio's (bad signature, bad
 * parameters), and for everything else valid TwiML that keeps the caller on the line —
 * never a 5xx, which the caller would hear as "an application error has occurred".
 */
@Catch()
export class TwimlFallbackFilter implements ExceptionFilter {
  private readonly logger = new Logger('TwilioFallback');

  constructor(private readonly calls: SpeechCallService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      res.status(exception.getStatus()).type('text/plain').send(exception.message);
      return;
    }
    let params;
    try {
      params = readVoiceParams(req.body ?? {});
    } catch {
      params = undefined;
    }
    const step = /^\d{1,6}$/.test(String(req.query.step)) ? Number(req.query.step) : undefined;
    this.logger.error(
      { callSid: params?.callSid, path: req.path, err: exception instanceof Error ? exception.message : String(exception) },
      'Twilio webhook failed: answered with fallback TwiML',
    );
    if (req.path.endsWith('/status')) {
      res.status(204).end(); // Twilio ignores the body of status callbacks
      return;
    }
    res.status(200).type('text/xml').send(this.calls.fallback(params, req.path.endsWith('/voice') ? 0 : step));
  }
}
