import { Body, Controller, Header, HttpCode, Post, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import twilio from 'twilio';
import { AgentRegistry } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { CallSessionStore } from '#libs/sessions';
import { Twiml, type TwilioParams } from '#libs/telephony';
import { CallRecorder } from '../twilio/call-recorder.js';
import { readParam, readVoiceParams } from '../twilio/twilio-params.js';
import { TwilioSignatureGuard } from '../twilio/twilio-signature.guard.js';
import { TwimlFallbackFilter } from '../twilio/twiml-fallback.filter.js';
import { relayTwiml } from './media-twiml.js';

/** Fresh relay sessions offered after dropped sockets, before the call is ended. */
const MAX_RECONNECTS = 2;

interface Handoff {
  reason?: string;
  transferTo?: string;
}

function hangupTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.hangup();
  return response.toString();
}

/**
 * POST /twilio/relay/action: the `<Connect action>` callback, run when a ConversationRelay
 * session ends. Our `end` message carries the handoff (transfer or hang-up); without one the
 * socket dropped, and the call would end unless we answer with a fresh relay.
 */
@ApiExcludeController()
@Controller('twilio/relay')
@UseGuards(TwilioSignatureGuard)
@UseFilters(TwimlFallbackFilter)
export class RelayActionController {
  constructor(
    private readonly config: AppConfig,
    private readonly sessions: CallSessionStore,
    private readonly agents: AgentRegistry,
    private readonly recorder: CallRecorder,
  ) {}

  @Post('action')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  async action(@Body() body: TwilioParams): Promise<string> {
    const params = readVoiceParams(body);
    let handoff: Handoff = {};
    try {
      const raw = readParam(params.raw, 'HandoffData');
      if (raw) handoff = JSON.parse(raw) as Handoff;
    } catch {
      handoff = {};
    }
    return this.sessions.withLock(params.callSid, async ({ session }) => {
      const agent = this.agents.get(session?.agentName);
      const voice = { voice: agent.voice, language: agent.language };
      const status = readParam(params.raw, 'SessionStatus');
      let twiml: string;
      if (handoff.reason === 'transfer' && typeof handoff.transferTo === 'string' && /^\+[1-9]\d{6,14}$/.test(handoff.transferTo)) {
        twiml = Twiml.transfer(voice, '', handoff.transferTo);
      } else if (handoff.reason === 'hangup' || !session || session.mode !== 'relay' || session.misses >= MAX_RECONNECTS) {
        twiml = hangupTwiml();
      } else {
        session.misses += 1;
        await this.sessions.save(session);
        twiml = relayTwiml(this.config.PUBLIC_BASE_URL, agent, session.streamToken!);
      }
      if (session) {
        const write = this.recorder.begin(session);
        write.event('relay_end', `relay_end:${session.step}:${session.misses}`, { status, handoff: handoff.reason, reconnect: twiml.includes('ConversationRelay') });
        if (handoff.reason === 'transfer') write.event('transfer', `transfer:${session.step}`, { to: handoff.transferTo });
        await this.recorder.commit(session, `relay-end-${session.step}-${session.misses}`, write);
        if (!twiml.includes('ConversationRelay')) await this.sessions.deleteCall(session.callSid);
      }
      return twiml;
    });
  }
}
