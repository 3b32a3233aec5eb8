import { ForbiddenException, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { RequestLogContext } from '#libs/logging';
import { AppConfig } from '#libs/config';
import { isValidTwilioSignature, requestedUrl, type TwilioParams } from '#libs/telephony';

/**
 * Admits a request only if `X-Twilio-Signature` matches PUBLIC_BASE_URL + the original path and
 * query. Runs before any handler: a forged request leaves no trace but one warning.
 */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  private readonly logger = new Logger('TwilioSignature');

  constructor(
    private readonly config: AppConfig,
    private readonly logContext: RequestLogContext,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const url = requestedUrl(this.config.PUBLIC_BASE_URL, req.originalUrl, this.config.TRUST_PROXY, req.headers);
    const params = (req.body && typeof req.body === 'object' ? req.body : {}) as TwilioParams;
    const signature = req.header('x-twilio-signature');
    if (isValidTwilioSignature(this.config.TWILIO_AUTH_TOKEN, signature, url, params)) {
      // The CallSid is the correlation id of every log line of this request from here on.
      const callSid = typeof params.CallSid === 'string' && /^CA[0-9a-fA-F]{32}$/.test(params.CallSid) ? params.CallSid : undefined;
      if (callSid) this.logContext.assign({ callSid });
      return true;
    }
    this.logger.warn({ path: req.path, hasSignature: Boolean(signature) }, 'rejected Twilio request with an invalid signature');
    throw new ForbiddenException('invalid Twilio signature');
  }
}
