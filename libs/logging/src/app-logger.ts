import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';

/** The logger of the request being handled, and the fields assigned to it (e.g. its CallSid). */
interface RequestStore {
  logger: Logger;
  fields: Record<string, unknown>;
}

const requests = new AsyncLocalStorage<RequestStore>();
const FIELDS = Symbol('log fields');

/** The process's root pino logger (LoggingModule provides it). */
export abstract class RootLogger {
  abstract readonly pino: Logger;
}

/**
 * Tags every later log line of the current request (and its access log line) with fields, such
 * as the CallSid once a Twilio signature has been checked. Outside a request it does nothing.
 */
@Injectable()
export class RequestLogContext {
  assign(fields: Record<string, unknown>): void {
    const store = requests.getStore();
    if (!store) return;
    Object.assign(store.fields, fields);
    store.logger = store.logger.child(fields);
  }
}

/**
 * Nest's LoggerService over pino: `logger.warn({ path }, 'message')` and `logger.log('message')`
 * both become one JSON line with the context (the class name) and, inside a request, the
 * request's id and assigned fields.
 */
@Injectable()
export class AppLogger implements LoggerService {
  constructor(private readonly root: RootLogger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', message: unknown, params: unknown[]): void {
    const logger = requests.getStore()?.logger ?? this.root.pino;
    if (!logger.isLevelEnabled(level)) return;
    const rest = [...params];
    // Nest's Logger appends the context (the class name) as the last string argument.
    const context = rest.length && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      logger[level]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const text = typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
      logger[level]({ ...fields, ...(message as Record<string, unknown>) }, text);
    } else {
      // error('message', stack): keep the stack Nest hands over.
      if (level === 'error' && typeof rest[0] === 'string') fields.stack = rest.shift();
      logger[level](fields, String(message));
    }
  }
}

/** Access-log options: which requests are not logged, and at which level the others are. */
export interface AccessLogOptions {
  ignore: (req: IncomingMessage) => boolean;
}

/**
 * Express middleware: one access log line per request (with its assigned fields) and a
 * request-scoped logger every log line inside the request goes through.
 */
export function requestLogging(root: Logger, options: AccessLogOptions) {
  const http: HttpLogger = pinoHttp({
    logger: root,
    // pino-http replaces the logger's serializers with its own unless handed them (ours redact URLs).
    serializers: (root as unknown as Record<symbol, Record<string, (v: unknown) => unknown>>)[pino.symbols.serializersSym],
    autoLogging: { ignore: options.ignore },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customProps: (req) => (req as IncomingMessage & { [FIELDS]?: Record<string, unknown> })[FIELDS] ?? {},
  });
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    http(req, res);
    const store: RequestStore = { logger: (req as IncomingMessage & { log: Logger }).log, fields: {} };
    (req as IncomingMessage & { [FIELDS]?: Record<string, unknown> })[FIELDS] = store.fields;
    requests.run(store, next);
  };
}
