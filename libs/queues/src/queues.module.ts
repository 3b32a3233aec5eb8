import { BullModule } from '@nestjs/bullmq';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { PiiRedactor } from '#libs/redaction';
import { bullConnectionOptions } from '#libs/redis';
import { AgentTurnQueue } from './agent-turn.queue.js';
import { CallLifecycleQueue } from './call-lifecycle.queue.js';
import { QueueName } from './queue-names.js';
import { TranscriptQueue } from './transcript.queue.js';
import { TranscriptStream } from './transcript-stream.js';
import { TurnEventsPublisher, TurnEventsSubscriber } from './turn-events.js';

/** BullMQ connection, the queues, and their producers. Processors live in the worker app only. */
@Global()
@Module({})
export class QueuesModule {
  /** `blocking`: this process runs BullMQ workers (their connections wait in blocking commands). */
  static forRoot({ blocking = false }: { blocking?: boolean } = {}): DynamicModule {
    const queues = BullModule.registerQueue(
      { name: QueueName.AgentTurns },
      { name: QueueName.Transcripts },
      { name: QueueName.CallLifecycle },
    );
    return {
      module: QueuesModule,
      imports: [
        BullModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            connection: bullConnectionOptions(config.REDIS_URL, { blocking }),
            prefix: 'sb',
          }),
        }),
        queues,
      ],
      providers: [PiiRedactor, AgentTurnQueue, TranscriptQueue, TranscriptStream, CallLifecycleQueue, TurnEventsPublisher, TurnEventsSubscriber],
      exports: [queues, AgentTurnQueue, TranscriptQueue, TranscriptStream, CallLifecycleQueue, TurnEventsPublisher, TurnEventsSubscriber],
    };
  }
}
