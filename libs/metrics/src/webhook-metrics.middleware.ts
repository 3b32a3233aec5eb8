import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service.js';

/** Twilio's routes; anything else under /twilio (a typo, a scan) is one `other` series. */
const ROUTES = new Set(['/twilio/voice', '/twilio/gather', '/twilio/gather/wait', '/twilio/status', '/twilio/relay/action']);

/**
 * Times every request under /twilio from arrival to the last byte sent, with the route's path
 * (no query: bounded labels) and the status class. A 403 there is the signature guard's
 * answer (the only 403 Twilio's routes give), so it also counts as a signature rejection.
 * A middleware rather than an interceptor: guards run before interceptors, and a forged
 * request stopped by the guard must be measured too.
 */
@Injectable()
export class WebhookMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (!this.metrics.enabled) return next();
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const path = req.originalUrl.split('?', 1)[0].replace(/\/+$/, '');
      const route = ROUTES.has(path) ? path : 'other';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.observeWebhook(route, res.statusCode, seconds);
      if (res.statusCode === 403) this.metrics.countSignatureRejection(route);
    });
    next();
  }
}
