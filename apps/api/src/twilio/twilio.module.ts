import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { MediaAnswerService } from '../media/media-answer.service.js';
import { CallRecorder } from './call-recorder.js';
import { CallStatusService } from './call-status.service.js';
import { FallbackCallService } from './fallback-call.service.js';
import { SpeechCallService } from './speech-call.service.js';
import { twilioBody } from './twilio-body.middleware.js';
import { TwilioController } from './twilio.controller.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { TwimlFallbackFilter } from './twiml-fallback.filter.js';

@Module({
  controllers: [TwilioController],
  providers: [SpeechCallService, CallStatusService, CallRecorder, TwilioSignatureGuard, TwimlFallbackFilter, MediaAnswerService, FallbackCallService],
  exports: [SpeechCallService, CallRecorder],
})
export class TwilioModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(twilioBody).forRoutes(TwilioController);
  }
}
