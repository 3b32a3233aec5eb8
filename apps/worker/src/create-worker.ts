import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppLogger } from '#libs/logging';
import type { Config } from '#libs/config';
import { WorkerModule } from './worker.module.js';

/** Builds the worker application: the processors plus a small health server. */
export async function createWorker(config?: Config): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(WorkerModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(AppLogger));
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  return app;
}
