import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AgentRegistry } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { appendHistory, CallSessionStore, newCallSession, type CallSession } from '#libs/sessions';
import { CallRecorder } from '../twilio/call-recorder.js';
import { sessionIdentity, type VoiceParams } from '../twilio/twilio-params.js';
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
    return this.sessions.withLock(params.callSid, async ({ session: existing, reply, lock }) => {
      if (reply) return reply; // a retried webhook gets the same token, not a second session
      const session = existing ?? this.newSession(params, mode, agentName);
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
      await this.sessions.commit(session, 0, twiml, { isNew: !existing, transcript: this.recorder.entry(session, 'answer', write), release: lock });
      return twiml;
    }, { replyId: 0 });
  }

  private newSession(params: VoiceParams, mode: 'stream' | 'relay', agentName?: string): CallSession {
    return newCallSession({
      ...sessionIdentity(params),
      mode,
      agentName: agentName && this.agents.has(agentName) ? agentName : this.config.DEFAULT_AGENT,
      streamToken: randomBytes(18).toString('base64url'),
    });
  }
}
