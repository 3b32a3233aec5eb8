import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '#libs/config';
import { loggerOptions } from './logger.js';

@Module({})
export class LoggingModule {
  /** Structured JSON logs through nestjs-pino; HTTP access logs only where `http` is set. */
  static forRoot(app: 'api' | 'worker'): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            // PinoLogger.assign({ callSid }) also tags the request's access log line.
            assignResponse: true,
            pinoHttp: {
              ...loggerOptions(config.LOG_LEVEL, app),
              autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
              customLogLevel: (_req, res, err) =>
                err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
            },
          }),
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
