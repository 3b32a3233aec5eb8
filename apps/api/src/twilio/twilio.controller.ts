import { Body, Controller, Header, HttpCode, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppConfig } from '#libs/config';
import type { CallMode } from '#libs/database';
import type { TwilioParams } from '#libs/telephony';
import { MediaAnswerService } from '../media/media-answer.service.js';
import { CallStatusService } from './call-status.service.js';
import { FallbackCallService } from './fallback-call.service.js';
import { SpeechCallService } from './speech-call.service.js';
import { readIndex, readVoiceParams } from './twilio-params.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { TwimlFallbackFilter } from './twiml-fallback.filter.js';

const MODES = new Set<CallMode>(['gather', 'stream', 'relay']);

/** The routes operators paste into the Twilio console. Signed, never rate-limited, always TwiML. */
@ApiExcludeController()
@Controller('twilio')
@UseGuards(TwilioSignatureGuard)
@UseFilters(TwimlFallbackFilter)
export class TwilioController {
  constructor(
    private readonly config: AppConfig,
    private readonly speech: SpeechCallService,
    private readonly status: CallStatusService,
    private readonly media: MediaAnswerService,
    private readonly fallbackCall: FallbackCallService,
  ) {}

  @Post('voice')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  voice(@Body() body: TwilioParams, @Query('mode') mode?: string, @Query('agent') agent?: string): Promise<string> {
    const params = readVoiceParams(body);
    const requested = (MODES.has(mode as CallMode) ? mode : this.config.DEFAULT_CALL_MODE) as CallMode;
    if (requested === 'stream' || requested === 'relay') return this.media.answer(params, requested, agent);
    return this.speech.answer(params, requested, agent);
  }

  @Post('gather')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  gather(@Body() body: TwilioParams, @Query('step') step?: string): Promise<string> {
    return this.speech.onGather(readVoiceParams(body), readIndex(step, 'step'));
  }

  @Post('gather/wait')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  wait(@Body() body: TwilioParams, @Query('step') step?: string, @Query('n') n?: string): Promise<string> {
    return this.speech.onWait(readVoiceParams(body), readIndex(step, 'step'), readIndex(n, 'n'));
  }

  @Post('status')
  @HttpCode(204)
  async statusCallback(@Body() body: TwilioParams): Promise<void> {
    await this.status.onStatus(readVoiceParams(body));
  }

  /** Twilio's voice fallback URL: an apology and a transfer (or goodbye), with every store down. */
  @Post('fallback')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  fallback(@Body() body: TwilioParams): Promise<string> {
    return this.fallbackCall.answer(readVoiceParams(body));
  }
}
