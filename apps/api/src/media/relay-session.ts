import { Logger } from '@nestjs/common';
import type { AgentInput } from '#libs/agents';
import { WebSocket } from 'ws';
import { relayTurnTimings } from '#libs/metrics';
import { appendHistory, type CallSession } from '#libs/sessions';
import type { CallRecorder, CallWrite } from '../twilio/call-recorder.js';
import type { AgentTurnRunner, RunningTurn } from './agent-turn.runner.js';

const APOLOGY = "I'm sorry, I couldn't look that up just now. Could you say that again?";

type TurnRecord = ReturnType<CallWrite['turn']>;

/** The agent's latest answer: stored once it is settled (next prompt, interrupt or end). */
interface PendingAnswer {
  write: CallWrite;
  record: TurnRecord;
  turn?: RunningTurn;
  streamed: string;
  /** When the first token went back to Twilio (epoch ms). */
  firstTokenAt?: number;
}

/**
 * One ConversationRelay session: Twilio recognises and speaks, we stream the model's tokens as
 * `text` messages as they arrive from the worker. An `interrupt` cancels generation and cuts the
 * stored agent turn to what Twilio says was heard (`utteranceUntilInterrupt`).
 */
export class RelaySession {
  private readonly logger = new Logger('RelaySession');
  private pending?: PendingAnswer;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    readonly session: CallSession,
    private readonly recorder: CallRecorder,
    private readonly runner: AgentTurnRunner,
    private readonly persist: (session: CallSession) => Promise<void>,
  ) {}

  onPrompt(text: string): void {
    this.settle();
    const write = this.recorder.begin(this.session);
    write.turn({ speaker: 'caller', text });
    this.commit(write, `prompt-${this.session.seq}`);
    appendHistory(this.session, { role: 'caller', text });
    this.session.callerTurns += 1;
    void this.respond({ kind: 'speech', text });
  }

  onDtmf(digit: string): void {
    this.settle();
    const write = this.recorder.begin(this.session);
    write.event('dtmf', `dtmf:${this.session.step}`, { digit });
    write.turn({ speaker: 'caller', text: `[pressed ${digit}]`, action: 'dtmf' });
    this.commit(write, `dtmf-${this.session.seq}`);
    appendHistory(this.session, { role: 'caller', text: `pressed ${digit}` });
    void this.respond({ kind: 'dtmf', text: digit });
  }

  /** Twilio stopped speaking because the caller spoke: keep only what was heard. */
  onInterrupt(heard: string, durationMs?: number): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    pending.turn?.cancel();
    const planned = pending.record.text || pending.streamed.trim();
    pending.record.text = heard;
    pending.record.interrupted = true;
    pending.record.data = { ...pending.record.data, planned, heardMs: durationMs };
    pending.write.event('barge_in', `barge_in:${pending.record.seq}`, { heardChars: heard.length, durationMs });
    this.replaceLastAgentHistory(heard);
    this.commit(pending.write, `agent-${pending.record.seq}`);
  }

  onError(description: string): void {
    const write = this.recorder.begin(this.session);
    write.event('error', `relay-error:${this.session.step}:${Date.now()}`, { message: description.slice(0, 300) });
    this.commit(write, `relay-error-${Date.now()}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settle();
  }

  private async respond(input: AgentInput): Promise<void> {
    const write = this.recorder.begin(this.session);
    const record = write.turn({ speaker: 'agent', text: '' });
    const pending: PendingAnswer = { write, record, streamed: '' };
    this.pending = pending;
    const receivedAt = Date.now();
    pending.turn = await this.runner.start(this.session, input, {
      token: (text) => {
        if (this.pending !== pending) return;
        pending.firstTokenAt ??= Date.now();
        pending.streamed += text;
        this.send({ type: 'text', token: text, last: false });
      },
      done: (result) => {
        if (this.pending !== pending) return;
        const decision = result.decision;
        if (!pending.streamed) this.send({ type: 'text', token: decision.say, last: false });
        this.send({ type: 'text', token: '', last: true });
        record.text = pending.streamed.trim() || decision.say;
        record.action = decision.action;
        record.latencyMs = Date.now() - receivedAt;
        record.timings = relayTurnTimings({ prompt: receivedAt, firstToken: pending.firstTokenAt ?? Date.now() }, result.timings);
        record.data = { intent: decision.intent, department: decision.department, transferTo: decision.transferTo };
        for (const tool of decision.tools ?? []) write.tool(tool);
        appendHistory(this.session, { role: 'agent', text: record.text });
        this.session.agent = decision.state;
        if (decision.action === 'transfer' || decision.action === 'hangup') {
          // The `<Connect action>` callback receives this and answers with <Dial> or <Hangup>.
          this.send({ type: 'end', handoffData: JSON.stringify({ reason: decision.action, transferTo: decision.transferTo }) });
          this.settle();
        }
      },
      failed: (reason) => {
        if (this.pending !== pending) return;
        this.send({ type: 'text', token: APOLOGY, last: true });
        record.text = APOLOGY;
        record.action = 'apology';
        write.event('error', `turn:${pending.turn?.step ?? this.session.step}`, { message: reason.slice(0, 300) });
        appendHistory(this.session, { role: 'agent', text: APOLOGY });
      },
    });
    if (this.pending !== pending) pending.turn.cancel();
  }

  /** Stores the pending answer as spoken in full (nothing interrupted it). */
  private settle(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    pending.turn?.cancel();
    if (!pending.record.text) pending.record.text = pending.streamed.trim();
    this.commit(pending.write, `agent-${pending.record.seq}`);
  }

  private replaceLastAgentHistory(text: string): void {
    const last = this.session.history.at(-1);
    if (last?.role === 'agent') last.text = text;
    else if (text) appendHistory(this.session, { role: 'agent', text });
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private commit(write: CallWrite, key: string): void {
    if (!write.turns.length && !write.events.length) return;
    void this.recorder
      .commit(this.session, `r-${key}`, write)
      .then(() => this.persist(this.session))
      .catch((err: Error) => this.logger.error({ callSid: this.session.callSid, err: err.message }, 'transcript write failed'));
  }
}
