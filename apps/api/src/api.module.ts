import { Module, type DynamicModule } from '@nestjs/common';
import { AgentsModule } from '#libs/agents';
import { ConfigModule, type Config } from '#libs/config';
import { DatabaseModule } from '#libs/database';
import { HealthService } from '#libs/health';
import { LoggingModule } from '#libs/logging';
import { MetricsModule } from '#libs/metrics';
import { QueuesModule } from '#libs/queues';
import { RedisModule } from '#libs/redis';
import { SessionsModule } from '#libs/sessions';
import { TranscriptsModule } from '#libs/transcripts';
import { AdminModule } from './admin/admin.module.js';
import { ConsoleController } from './console/console.controller.js';
import { HealthController } from './health/health.controller.js';
import { ApiGauges } from './metrics/api-gauges.js';
import { MediaModule } from './media/media.module.js';
import { TwilioModule } from './twilio/twilio.module.js';

/** The HTTP + WebSocket process. It enqueues jobs; it never runs a processor. */
@Module({})
export class ApiModule {
  static forRoot(config?: Config): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot('api'),
        DatabaseModule,
        RedisModule,
        QueuesModule.forRoot(),
        MetricsModule.forRoot('api'),
        SessionsModule,
        AgentsModule,
        TranscriptsModule,
        TwilioModule,
        MediaModule,
        AdminModule,
      ],
      controllers: [HealthController, ConsoleController],
      providers: [HealthService, ApiGauges],
    };
  }
}
