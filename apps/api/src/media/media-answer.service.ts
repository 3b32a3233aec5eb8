import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AgentRegistry } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { appendHistory, CallSessionStore, type CallSession } from '#libs/sessions';
import { CallRecorder } from '../twilio/call-recorder.js';
import type { VoiceParams } from '../twilio/twilio-params.js';
import { relayTwiml, streamTwiml } from './media-twiml.js';

/**
 * POST /twilio/voice?mode=stream|relay: opens the call's session with a fresh stream token and
 * answers with `<Connect>`. The socket that follows is accepted only for this call SID and token.
 * Runs under the call's lock and caches its reply, like the gather flow, so a retried webhook
 * gets the same token instead of a second session.
 */
@Injectable()
export class MediaAnswerService {
  constructor(
    private readonly config: AppConfig,
    private readonly sessions: CallSessionStore,
    private readonly agents: AgentRegistry,
    private readonly recorder: CallRecorder,
  ) {}

  async answer(params: VoiceParams, mode: 'stream' | 'relay', agentName?: string): Promise<string> {
    return this.sessions.withLock(params.callSid, async () => {
      const fresh = this.newSession(params, mode, agentName);
      const { session, created } = await this.sessions.create(fresh);
      if (!created) {
        const cached = await this.sessions.getReply(params.callSid, 0);
        if (cached) return cached;
      }
      const agent = this.agents.get(session.agentName);
      const write = this.recorder.begin(session);
      write.event('status', `voice:${params.callStatus ?? 'ringing'}`, { status: params.callStatus, mode });
      let twiml: string;
      if (mode === 'relay') {
        // Twilio speaks the welcome greeting itself; it is part of the transcript from here.
        write.turn({ speaker: 'agent', text: agent.greeting, action: 'greeting' });
        appendHistory(session, { role: 'agent', text: agent.greeting });
        twiml = relayTwiml(this.config.PUBLIC_BASE_URL, agent, session.streamToken!, agent.greeting);
      } else {
        twiml = streamTwiml(this.config.PUBLIC_BASE_URL, session.streamToken!);
      }
      await this.sessions.saveReply(session.callSid, 0, twiml);
      await this.sessions.save(session);
      await this.recorder.commit(session, 'answer', write);
      return twiml;
    });
  }

  private newSession(params: VoiceParams, mode: 'stream' | 'relay', agentName?: string): CallSession {
    return {
      callSid: params.callSid,
      accountSid: params.accountSid,
      from: params.from,
      to: params.to,
      direction: params.direction,
      mode,
      agentName: agentName && this.agents.has(agentName) ? agentName : this.config.DEFAULT_AGENT,
      startedAt: new Date().toISOString(),
      step: 1,
      seq: 0,
      misses: 0,
      history: [],
      agent: {},
      callerTurns: 0,
      streamToken: randomBytes(18).toString('base64url'),
    };
  }
}
