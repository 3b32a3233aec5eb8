import { Injectable, Logger } from '@nestjs/common';
import { AgentRegistry, type AgentDecision } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { gatherTurnTimings } from '#libs/metrics';
import type { CallMode } from '#libs/database';
import { AgentTurnQueue, type AgentTurnJobResult, type TurnOutcome } from '#libs/queues';
import { appendHistory, CallSessionStore, newCallSession, type CallSession } from '#libs/sessions';
import { Twiml, type Voice } from '#libs/telephony';
import { CallRecorder, type CallWrite } from './call-recorder.js';
import { readParam, sessionIdentity, type VoiceParams } from './twilio-params.js';

const REPROMPT = "Sorry, I didn't catch that. Could you say it again?";
const APOLOGY = "I'm sorry, I couldn't look that up just now. Could you say that again?";
const GIVE_UP = "I'm sorry, I'm having trouble hearing you. Please call us again later. Goodbye.";
const GIVE_UP_TRANSFER = "I'm having trouble hearing you, so I'll connect you to a member of our team.";
const FILLER = 'One moment.';

/**
 * The speech-gather conversation: Twilio's <Gather input="speech"> recognises the caller,
 * the worker decides the answer, <Say> speaks it. Every webhook of a call runs under the
 * call's lock and its reply is cached per step, so retries and duplicates are harmless.
 */
@Injectable()
export class SpeechCallService {
  private readonly logger = new Logger(SpeechCallService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly sessions: CallSessionStore,
    private readonly agents: AgentRegistry,
    private readonly turns: AgentTurnQueue,
    private readonly recorder: CallRecorder,
  ) {}

  /** POST /twilio/voice: open the call and greet the caller (without live state if Redis is down). */
  async answer(params: VoiceParams, mode: CallMode, agentName?: string): Promise<string> {
    try {
      return await this.answerWithSession(params, mode, agentName);
    } catch (err) {
      this.logger.error({ callSid: params.callSid, err: (err as Error).message }, 'live state unavailable: greeting without a session');
      const session = this.newSession(params, mode, agentName);
      const greeting = this.agents.get(session.agentName).greeting;
      const write = this.recorder.begin(session);
      write.event('status', `voice:${params.callStatus ?? 'ringing'}`, { status: params.callStatus, mode, degraded: true });
      write.turn({ speaker: 'agent', text: greeting, action: 'greeting' });
      await this.recorder.commit(session, 'greeting', write);
      return Twiml.listen(this.voice(session), greeting, this.gatherUrl(1), this.hints(session));
    }
  }

  private async answerWithSession(params: VoiceParams, mode: CallMode, agentName?: string): Promise<string> {
    return this.sessions.withLock(params.callSid, async ({ session: existing, reply }) => {
      if (reply) return reply; // Twilio retried the first webhook: same greeting, nothing stored twice
      const session = existing ?? this.newSession(params, mode, agentName);
      const agent = this.agents.get(session.agentName);
      const write = this.recorder.begin(session);
      write.event('status', `voice:${params.callStatus ?? 'ringing'}`, { status: params.callStatus, mode });
      write.turn({ speaker: 'agent', text: agent.greeting, action: 'greeting' });
      appendHistory(session, { role: 'agent', text: agent.greeting });
      const twiml = Twiml.listen(this.voice(session), agent.greeting, this.gatherUrl(session.step), this.hints(session));
      await this.finish(session, 0, twiml, write, 'greeting', !existing);
      return twiml;
    }, { replyId: 0 });
  }

  /** POST /twilio/gather?step=K: the caller's turn K arrived. */
  async onGather(params: VoiceParams, step: number): Promise<string> {
    try {
      return await this.gatherWithSession(params, step);
    } catch (err) {
      this.logger.error({ callSid: params.callSid, step, err: (err as Error).message }, 'live state unavailable: apology without a session');
      return this.gatherWithoutSession(params, step);
    }
  }

  /**
   * Redis is down: the agent cannot run, but what the caller said is still stored, numbered
   * deterministically from the step (a retry stores nothing twice), and the same step is asked
   * again so the conversation resumes normally once Redis is back.
   */
  private async gatherWithoutSession(params: VoiceParams, step: number): Promise<string> {
    const session = this.newSession(params, 'gather');
    session.seq = step * 1000 + 900;
    const write = this.recorder.begin(session);
    const speech = readParam(params.raw, 'SpeechResult')?.trim().slice(0, 1000);
    if (speech) {
      const confidence = Number.parseFloat(readParam(params.raw, 'Confidence') ?? '');
      write.turn({ speaker: 'caller', text: speech, confidence: Number.isFinite(confidence) ? confidence : undefined });
    }
    write.turn({ speaker: 'agent', text: APOLOGY, action: 'apology', data: { reason: 'live state unavailable' } });
    write.event('error', `degraded:${step}`, { message: 'live state unavailable' });
    await this.recorder.commit(session, `s${step}-degraded`, write);
    return Twiml.listen(this.voice(session), APOLOGY, this.gatherUrl(step), this.hints(session));
  }

  private async gatherWithSession(params: VoiceParams, step: number): Promise<string> {
    return this.sessions.withLock(params.callSid, async ({ session: live, reply }) => {
      if (reply) return reply; // a retried or duplicated webhook: same answer, nothing stored twice
      const session = live ?? this.recoveredSession(params, step);
      const write = this.recorder.begin(session);
      const twiml = await this.takeTurn(session, params, step, write);
      await this.finish(session, step, twiml, write, `s${step}`, !live);
      return twiml;
    }, { replyId: step });
  }

  /** POST /twilio/gather/wait?step=K&n=N: the filler finished; wait for the answer again. */
  async onWait(params: VoiceParams, step: number, n: number): Promise<string> {
    const id = `${step}-w${n}`;
    return this.sessions.withLock(params.callSid, async ({ session, reply }) => {
      if (reply) return reply;
      if (!session?.pending || session.pending.step !== step) {
        // The turn was settled meanwhile (or the session expired): just listen again.
        const s = session ?? this.recoveredSession(params, step + 1);
        return Twiml.listen(this.voice(s), '', this.gatherUrl(s.step), this.hints(s));
      }
      const write = this.recorder.begin(session);
      const left = session.pending.receivedAt + this.config.TURN_CEILING_MS - Date.now();
      const outcome: TurnOutcome =
        left > 250 ? await this.turns.waitFor(session.pending.jobId, Math.min(this.config.TURN_WAIT_MS, left - 200)) : { state: 'pending' };
      const twiml = this.settle(session, outcome, write, n + 1);
      await this.finish(session, id, twiml, write, id);
      return twiml;
    }, { replyId: id });
  }

  /** The webhook could not be served normally (Redis down, lock stuck …): keep the caller on the line. */
  fallback(params: VoiceParams | undefined, step: number | undefined, agentName?: string): string {
    const agent = this.agents.get(agentName);
    const voice = { voice: agent.voice, language: agent.language };
    if (this.config.HUMAN_TRANSFER_NUMBER && step !== undefined && step > 0) {
      return Twiml.transfer(voice, "I'm sorry, something went wrong on our side. Let me connect you to a member of our team.", this.config.HUMAN_TRANSFER_NUMBER);
    }
    const text = step === undefined || step === 0 ? agent.greeting : "I'm sorry, something went wrong on our side. Could you say that again?";
    void params;
    return Twiml.listen(voice, text, this.gatherUrl(Math.max(1, step ?? 1)));
  }

  private async takeTurn(session: CallSession, params: VoiceParams, step: number, write: CallWrite): Promise<string> {
    const voice = this.voice(session);
    const digits = readParam(params.raw, 'Digits')?.replace(/[^0-9*#]/g, '').slice(0, 20);
    const speech = readParam(params.raw, 'SpeechResult')?.trim().slice(0, 1000) ?? '';
    const confidence = Number.parseFloat(readParam(params.raw, 'Confidence') ?? '');
    session.step = step + 1;

    if (!digits && (!speech || !(confidence >= this.config.SPEECH_CONFIDENCE_THRESHOLD))) {
      session.misses += 1;
      write.event(speech ? 'low_confidence' : 'no_input', `miss:${step}`, speech ? { text: speech, confidence } : undefined);
      if (session.misses >= this.config.MAX_MISSED_TURNS) {
        const transferTo = this.agents.get(session.agentName).transferNumber ?? this.config.HUMAN_TRANSFER_NUMBER;
        const text = transferTo ? GIVE_UP_TRANSFER : GIVE_UP;
        write.turn({ speaker: 'agent', text, action: transferTo ? 'transfer' : 'hangup', data: { reason: 'missed_turns' } });
        return transferTo ? Twiml.transfer(voice, text, transferTo) : Twiml.hangup(voice, text);
      }
      write.turn({ speaker: 'agent', text: REPROMPT, action: 'reprompt' });
      return Twiml.listen(voice, REPROMPT, this.gatherUrl(session.step), this.hints(session));
    }

    session.misses = 0;
    session.callerTurns += 1;
    const receivedAt = Date.now();
    const input = digits ? { kind: 'dtmf' as const, text: digits } : { kind: 'speech' as const, text: speech, confidence };
    if (digits) write.event('dtmf', `dtmf:${step}`, { digits });
    write.turn({
      speaker: 'caller',
      text: digits ? `[pressed ${digits}]` : speech,
      confidence: digits ? undefined : confidence,
      action: digits ? 'dtmf' : undefined,
    });
    const history = [...session.history];
    appendHistory(session, { role: 'caller', text: digits ? `pressed ${digits}` : speech });
    try {
      const jobId = await this.turns.enqueue({
        callSid: session.callSid,
        step,
        agentName: session.agentName,
        input,
        history,
        state: session.agent,
        receivedAt,
      });
      session.pending = { step, jobId, receivedAt };
    } catch (err) {
      this.logger.error({ callSid: session.callSid, err: (err as Error).message }, 'could not enqueue the agent turn');
      write.event('error', `enqueue:${step}`, { message: 'agent turn could not be queued' });
      write.turn({ speaker: 'agent', text: APOLOGY, action: 'apology' });
      return Twiml.listen(voice, APOLOGY, this.gatherUrl(session.step), this.hints(session));
    }
    const outcome = await this.turns.waitFor(session.pending.jobId, this.config.TURN_WAIT_MS);
    return this.settle(session, outcome, write, 1);
  }

  /** Turns the state of the pending agent turn into TwiML: the answer, a filler, or an apology. */
  private settle(session: CallSession, outcome: TurnOutcome, write: CallWrite, nextWait: number): string {
    const pending = session.pending!;
    const voice = this.voice(session);
    if (outcome.state === 'pending') {
      if (Date.now() - pending.receivedAt < this.config.TURN_CEILING_MS - 500) {
        if (nextWait === 1) write.event('filler', `filler:${pending.step}`);
        return Twiml.hold(voice, nextWait === 1 ? FILLER : undefined, this.waitUrl(pending.step, nextWait));
      }
      void this.turns.cancel(pending.jobId);
      write.event('error', `ceiling:${pending.step}`, { message: 'agent turn exceeded the ceiling', ceilingMs: this.config.TURN_CEILING_MS });
    } else if (outcome.state !== 'done') {
      write.event('error', `turn:${pending.step}`, { message: outcome.state === 'failed' ? outcome.reason.slice(0, 300) : 'agent turn lost' });
    }
    session.pending = undefined;
    if (outcome.state !== 'done') {
      write.turn({ speaker: 'agent', text: APOLOGY, action: 'apology' });
      return Twiml.listen(voice, APOLOGY, this.gatherUrl(session.step), this.hints(session));
    }
    return this.respond(session, outcome.result.decision, Date.now() - pending.receivedAt, write, outcome.result.timings);
  }

  private respond(session: CallSession, decision: AgentDecision, latencyMs: number, write: CallWrite, worker?: AgentTurnJobResult['timings']): string {
    const voice = this.voice(session);
    for (const tool of decision.tools ?? []) write.tool(tool);
    write.turn({
      speaker: 'agent',
      text: decision.say,
      latencyMs,
      action: decision.action,
      data: { intent: decision.intent, department: decision.department, transferTo: decision.transferTo },
      timings: gatherTurnTimings(latencyMs, worker),
    });
    appendHistory(session, { role: 'agent', text: decision.say });
    session.agent = decision.state;
    switch (decision.action) {
      case 'transfer':
        write.event('transfer', `transfer:${session.step}`, { to: decision.transferTo, department: decision.department });
        return Twiml.transfer(voice, decision.say, decision.transferTo!);
      case 'hangup':
        return Twiml.hangup(voice, decision.say);
      case 'route':
      case 'say':
        return Twiml.listen(voice, decision.say, this.gatherUrl(session.step), this.hints(session));
    }
  }

  private async finish(session: CallSession, replyId: number | string, twiml: string, write: CallWrite, key: string, isNew = false): Promise<void> {
    await this.sessions.commit(session, replyId, twiml, { isNew });
    await this.recorder.commit(session, key, write);
  }

  private newSession(params: VoiceParams, mode: CallMode, agentName?: string): CallSession {
    return newCallSession({
      ...sessionIdentity(params),
      mode,
      agentName: agentName && this.agents.has(agentName) ? agentName : this.config.DEFAULT_AGENT,
    });
  }

  /**
   * The session is gone (expired, or Redis lost it) but Twilio still has the caller: start a
   * new one from the webhook, numbering transcript turns after any that may exist.
   */
  private recoveredSession(params: VoiceParams, step: number): CallSession {
    this.logger.warn({ callSid: params.callSid, step }, 'no live session for the call: continuing with a new one');
    const session = this.newSession(params, 'gather');
    session.step = step;
    session.seq = step * 1000; // above anything the lost session can have numbered
    return session;
  }

  private voice(session: CallSession): Voice {
    const agent = this.agents.get(session.agentName);
    return { voice: agent.voice, language: agent.language };
  }

  private hints(session: CallSession): string {
    const agent = this.agents.get(session.agentName);
    return agent.departments.map((d) => d.name).concat(['representative', 'goodbye']).join(', ');
  }

  gatherUrl(step: number): string {
    return `${this.config.PUBLIC_BASE_URL}/twilio/gather?step=${step}`;
  }

  private waitUrl(step: number, n: number): string {
    return `${this.config.PUBLIC_BASE_URL}/twilio/gather/wait?step=${step}&n=${n}`;
  }
}
