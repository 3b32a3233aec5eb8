import { Injectable, Logger } from '@nestjs/common';
import { AgentRegistry } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { TwilioRestService } from '#libs/telephony';
import { OutboundCallRejectedError, TwilioUnavailableError } from '../admin-errors.js';
import type { Principal } from '../auth/principal.js';
import type { CreateCallDto, CreatedCallDto } from '../dto/create-call.dto.js';

/** Places calls through Twilio's REST API; Twilio then drives them through our /twilio routes. */
@Injectable()
export class OutboundCallService {
  private readonly logger = new Logger(OutboundCallService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly agents: AgentRegistry,
    private readonly twilio: TwilioRestService,
  ) {}

  async place(dto: CreateCallDto, by: Principal): Promise<CreatedCallDto> {
    const agent = dto.agent ?? this.config.DEFAULT_AGENT;
    // The voice webhook would silently fall back to the default agent: refuse a typo instead.
    if (!this.agents.has(agent)) throw new OutboundCallRejectedError(`agent "${agent}" is not configured`);
    const mode = dto.mode ?? this.config.DEFAULT_CALL_MODE;
    const voiceUrl = new URL(`${this.config.PUBLIC_BASE_URL}/twilio/voice`);
    voiceUrl.searchParams.set('mode', mode);
    voiceUrl.searchParams.set('agent', agent);
    try {
      const call = await this.twilio.createCall({
        to: dto.to,
        from: dto.from,
        url: voiceUrl.toString(),
        statusCallback: `${this.config.PUBLIC_BASE_URL}/twilio/status`,
      });
      this.logger.log({ callSid: call.sid, keyId: by.keyId, mode, agent }, 'outbound call placed');
      return { callSid: call.sid, status: call.status, to: call.to, from: call.from, agent, mode };
    } catch (err) {
      throw translateTwilioError(err);
    }
  }
}

/** twilio-node's RestException carries Twilio's HTTP status and error code. */
function translateTwilioError(err: unknown): Error {
  const e = err as { status?: number; code?: number; message?: string };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 403 && e.status !== 429) {
    return new OutboundCallRejectedError(`Twilio refused the call: ${e.message ?? 'invalid request'}`, e.code);
  }
  // Our credentials failing, Twilio throttling or failing, or the network: not the operator's input.
  return new TwilioUnavailableError(`Twilio could not place the call${e.code ? ` (error ${e.code})` : ''}`);
}
