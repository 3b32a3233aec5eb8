import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { TwilioRestService } from '#libs/telephony';
import { twilioBody } from '../twilio/twilio-body.middleware.js';
import { TwilioModule } from '../twilio/twilio.module.js';
import { AgentTurnRunner } from './agent-turn.runner.js';
import { CallControl } from './call-control.js';
import { MediaGateway } from './media.gateway.js';
import { OfflineSpeechWarmup } from './offline-speech-warmup.js';
import { RelayActionController } from './relay-action.controller.js';
import { RelayGateway } from './relay.gateway.js';
import { RealtimeEngine } from './realtime/realtime-engine.js';
import { SpeechProviders } from './speech-providers.js';
import { StreamCallsService } from './stream-calls.service.js';

/** Media Streams (WS /twilio/media) and ConversationRelay (WS /twilio/relay + its action callback). */
@Module({
  imports: [TwilioModule],
  controllers: [RelayActionController],
  providers: [MediaGateway, RelayGateway, StreamCallsService, AgentTurnRunner, CallControl, SpeechProviders, OfflineSpeechWarmup, RealtimeEngine, TwilioRestService],
  exports: [StreamCallsService],
})
export class MediaModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(twilioBody).forRoutes(RelayActionController);
  }
}
