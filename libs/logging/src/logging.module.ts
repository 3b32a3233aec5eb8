import { Global, Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { AppLogger, RequestLogContext, RootLogger, requestLogging } from './app-logger.js';
import { createLogger } from './logger.js';

/**
 * Structured JSON logs through pino for both apps: AppLogger as Nest's logger, an access log
 * line per request (health checks excluded), and RequestLogContext to tag a request's lines.
 */
@Global()
@Module({})
export class LoggingModule implements NestModule {
  constructor(private readonly root: RootLogger) {}

  static forRoot(app: 'api' | 'worker'): DynamicModule {
    return {
      module: LoggingModule,
      providers: [
        { provide: RootLogger, inject: [AppConfig], useFactory: (config: AppConfig): RootLogger => ({ pino: createLogger(config.LOG_LEVEL, app) }) },
        AppLogger,
        RequestLogContext,
      ],
      exports: [RootLogger, AppLogger, RequestLogContext],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(requestLogging(this.root.pino, { ignore: (req) => (req.url ?? '').startsWith('/health') })).forRoutes('*');
  }
}
