import 'reflect-metadata';
import { STATUS_CODES } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppLogger } from '#libs/logging';
import type { Config } from '#libs/config';
import { setupOpenApi } from './admin/openapi.js';
import { ApiModule } from './api.module.js';
import { TwilioWsAdapter } from './media/twilio-ws.adapter.js';

const parseJson = express.json({ limit: '32kb' });

/** JSON bodies for the admin API, with parse errors answered as a plain 4xx (never a stack trace). */
function jsonBody(req: Request, res: Response, next: NextFunction): void {
  if (req.path.startsWith('/twilio')) return next();
  parseJson(req, res, (err?: { status?: number }) => {
    if (!err) return next();
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 400;
    res.status(status).json({ statusCode: status, error: STATUS_CODES[status] ?? 'Bad Request', message: status === 413 ? 'Payload Too Large' : 'malformed JSON body' });
  });
}

/** Builds the api application (used by main.ts and by the end-to-end tests). */
export async function createApi(config?: Config): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(AppLogger));
  app.disable('x-powered-by');
  app.use(jsonBody);
  setupOpenApi(app);
  app.enableShutdownHooks();
  // Twilio's media and relay sockets share the HTTP server; their frames have no `data` field,
  // and they arrive 50 a second per call, so they skip Nest's per-message rxjs plumbing.
  app.useWebSocketAdapter(new TwilioWsAdapter(app));
  return app;
}
