import { Global, Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { MetricsController } from './metrics.controller.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { METRICS_APP, METRICS_ENABLED, MetricsService, type MetricsApp } from './metrics.service.js';
import { QueueGauges } from './queue-gauges.js';
import { WebhookMetricsMiddleware } from './webhook-metrics.middleware.js';

/**
 * Prometheus metrics of one app: `GET /metrics` (bearer `METRICS_TOKEN` when set), queue
 * gauges read at scrape time, and (api) the timing of every Twilio webhook. Global, so any
 * service can record through MetricsService without importing this module.
 */
@Global()
@Module({})
export class MetricsModule implements NestModule {
  static forRoot(app: MetricsApp): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        { provide: METRICS_APP, useValue: app },
        { provide: METRICS_ENABLED, inject: [AppConfig], useFactory: (config: AppConfig) => config.METRICS_ENABLED },
        MetricsService,
        MetricsTokenGuard,
        QueueGauges,
        WebhookMetricsMiddleware,
      ],
      exports: [MetricsService],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Only the api has /twilio routes; on the worker the middleware never matches.
    consumer.apply(WebhookMetricsMiddleware).forRoutes({ path: 'twilio/*path', method: RequestMethod.ALL });
  }
}
