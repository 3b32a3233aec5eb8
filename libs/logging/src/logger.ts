import pino, { type Logger, type LoggerOptions } from 'pino';
import { maskPhoneNumbers, redact } from './redact.js';

/** Pino options shared by both apps: JSON lines, secrets and phone numbers redacted. */
export function loggerOptions(level: string, app: string): LoggerOptions {
  return {
    level,
    base: { app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redact(object) as Record<string, unknown>,
    },
    hooks: {
      // Messages are strings too: mask numbers that were interpolated into them.
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? maskPhoneNumbers(a) : a));
        return method.apply(this, masked as Parameters<typeof method>);
      },
    },
    serializers: {
      req: (req: { id?: unknown; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url ? maskPhoneNumbers(req.url) : req.url,
      }),
      // pino-http may hand over a wrapper whose own statusCode is not yet set: read the raw one.
      res: (res: { statusCode?: number | null; raw?: { statusCode?: number } }) => ({ statusCode: res.raw?.statusCode ?? res.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
}

export function createLogger(level: string, app: string): Logger {
  return pino(loggerOptions(level, app));
}
