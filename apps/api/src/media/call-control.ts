import { Injectable, Logger } from '@nestjs/common';
import type { AgentConfig, AgentDecision } from '#libs/agents';
import type { CallSession } from '#libs/sessions';
import { TwilioRestService, Twiml } from '#libs/telephony';
import { CallRecorder } from '../twilio/call-recorder.js';

/**
 * Transfer and hang-up during a stream. Closing the socket would not end the call (Twilio
 * just runs the next verb), so both go through the REST API: new TwiML replaces the running
 * document at once, which also ends the stream.
 */
@Injectable()
export class CallControl {
  private readonly logger = new Logger(CallControl.name);

  constructor(
    private readonly rest: TwilioRestService,
    private readonly recorder: CallRecorder,
  ) {}

  async act(session: CallSession, decision: AgentDecision, agent: AgentConfig): Promise<void> {
    const write = this.recorder.begin(session);
    try {
      if (decision.action === 'transfer' && decision.transferTo) {
        const twiml = Twiml.transfer({ voice: agent.voice, language: agent.language }, '', decision.transferTo);
        const live = await this.rest.redirectCall(session.callSid, twiml);
        write.event('transfer', `transfer:${session.step}`, { to: decision.transferTo, department: decision.department, live });
      } else if (decision.action === 'hangup') {
        const live = await this.rest.hangUp(session.callSid);
        write.event('hangup', `hangup:${session.step}`, { live });
      }
    } catch (err) {
      this.logger.error({ callSid: session.callSid, err: (err as Error).message }, 'call update through the REST API failed');
      write.event('error', `control:${session.step}`, { message: `${decision.action} failed: ${(err as Error).message}`.slice(0, 300) });
    }
    await this.recorder.commit(session, `control-${session.step}`, write).catch(() => undefined);
  }
}
