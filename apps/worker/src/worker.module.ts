import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AgentsModule } from '#libs/agents';
import { ConfigModule, type Config } from '#libs/config';
import { DatabaseModule } from '#libs/database';
import { HealthService, HeartbeatService } from '#libs/health';
import { LoggingModule } from '#libs/logging';
import { MetricsModule } from '#libs/metrics';
import { QueuesModule } from '#libs/queues';
import { RedisModule } from '#libs/redis';
import { TranscriptsModule } from '#libs/transcripts';
import { QueueMonitor } from './health/queue-monitor.service.js';
import { WorkerHealthController } from './health/worker-health.controller.js';
import { JobMetrics } from './metrics/job-metrics.js';
import { AgentTurnProcessor } from './processors/agent-turn.processor.js';
import { CallLifecycleProcessor } from './processors/call-lifecycle.processor.js';
import { TranscriptProcessor } from './processors/transcript.processor.js';
import { TranscriptStreamConsumer } from './processors/transcript-stream.consumer.js';
import { TurnCancellations } from './processors/turn-cancellations.js';
import { RetentionService } from './retention/retention.service.js';

/** The BullMQ process: every processor lives here, so scaling workers scales the slow work alone. */
@Module({})
export class WorkerModule {
  static forRoot(config?: Config): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot('worker'),
        DiscoveryModule,
        DatabaseModule,
        RedisModule,
        QueuesModule.forRoot({ blocking: true }),
        MetricsModule.forRoot('worker'),
        AgentsModule,
        TranscriptsModule,
      ],
      controllers: [WorkerHealthController],
      providers: [HealthService, HeartbeatService, QueueMonitor, JobMetrics, TurnCancellations, AgentTurnProcessor, TranscriptProcessor, TranscriptStreamConsumer, CallLifecycleProcessor, RetentionService],
    };
  }
}
