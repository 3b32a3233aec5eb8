import { Logger } from '@nestjs/common';
import type { AgentAction, AgentConfig, AgentDecision } from '#libs/agents';
import type { AppConfig } from '#libs/config';
import { AudioRing } from '#libs/media';
import { appendHistory, type CallSession } from '#libs/sessions';
import type { TwilioRestService } from '#libs/telephony';
import type { CallRecorder, CallWrite } from '../../twilio/call-recorder.js';
import type { CallControl } from '../call-control.js';
import type { StreamCloseReason, StreamEngineCall } from '../stream-engine.js';
import type { StreamSocket } from '../stream-socket.js';
import { MAX_TRANSCRIPT_CHARS, Playback, type ModelResponse, type Purpose } from './playback.js';
import { REALTIME_PROVIDER, RealtimeConnection, type RealtimeFailure, type ServerEvent } from './realtime-connection.js';
import { apologyRedirect, timeLimitRedirect, type CallRedirect } from './realtime-fallback.js';
import { dispatchModelEvent, type ModelEventHandler } from './model-events.js';
import { describeFailure, historyItems, sessionUpdate } from './realtime-session.js';
import { RealtimeWrites } from './realtime-writes.js';
import { StallClock } from './stall-clock.js';
import { ToolCalls, type FunctionCall } from './tool-calls.js';
import { TurnLedger } from './turn-ledger.js';

/** Caller audio kept while the model socket connects (8 bytes per ms of μ-law): 2 s. */
const PREOPEN_AUDIO_BYTES = 2000 * 8;
/** How long a caller turn may hold back later turns waiting for its transcription. */
const CALLER_TRANSCRIPT_WAIT_MS = 8000;
/** How long the model socket may stay open after the call ended or failed, for transcriptions still owed. */
const TRANSCRIPTION_GRACE_MS = 1500;
/** Malformed model messages logged one by one per call; the rest are counted. */
const LOGGED_MALFORMED = 3;
/** Model error codes after which the session cannot serve the call. */
const FATAL_ERRORS = new Set(['invalid_api_key', 'insufficient_quota', 'rate_limit_exceeded', 'session_expired', 'model_not_found', 'unsupported_model']);

/** What a realtime call needs from the app (one bundle, shared by every call of the process). */
export interface RealtimeCallDeps {
  config: AppConfig;
  recorder: CallRecorder;
  control: CallControl;
  rest: TwilioRestService;
  persist(session: CallSession): Promise<void>;
  /** Called once when the call is finished with (stop, close, or replaced). */
  released(call: StreamEngineCall, reason: string): void;
}

/** failing: the model is being let go (caller audio no longer forwarded); only late transcriptions are still read. */
type State = 'connecting' | 'live' | 'failing' | 'closed';

/**
 * One stream call bridged to a speech-to-speech model (the OpenAI Realtime API): Twilio's μ-law
 * frames go to the model as they arrive, the model's μ-law deltas go to Twilio as they arrive
 * (`Playback`, which also knows from marks what was heard). The model detects turns; on its
 * `speech_started` while the agent talks, `clear` goes to Twilio first, then the response is
 * cancelled and the item truncated at the played position. Tools run here (`ToolCalls`). Turns
 * are stored in conversation order through a ledger (`TurnLedger`, `RealtimeWrites`). Any failure
 * of the model, and the end of the maximum duration, end in new TwiML through Twilio's REST API
 * (`realtime-fallback.ts`): an apology and a transfer or a polite goodbye.
 */
export class RealtimeCall implements StreamEngineCall, ModelEventHandler {
  private readonly logger = new Logger('RealtimeCall');
  private state: State = 'connecting';
  private model!: RealtimeConnection;
  private readonly preopen = new AudioRing(PREOPEN_AUDIO_BYTES);
  private readonly responses = new Map<string, ModelResponse>();
  private active?: ModelResponse;
  private readonly ledger: TurnLedger;
  private readonly writes: RealtimeWrites;
  private readonly playback: Playback;
  private readonly tools: ToolCalls;
  private readonly stall = new StallClock((what, ms) => this.fail({ kind: 'timeout', detail: `no ${what} from the model in ${Math.round(ms)} ms` }));
  private limitTimer?: NodeJS.Timeout;
  private expireTimer?: NodeJS.Timeout;
  private releaseTimer?: NodeJS.Timeout;
  /** When the caller's last turn ended (speech_stopped), for the answer's latency. */
  private turnEndedAt?: number;
  private closing = false;
  private malformed = 0;
  framesIn = 0;

  constructor(
    private readonly deps: RealtimeCallDeps,
    readonly socket: StreamSocket,
    readonly session: CallSession,
    private readonly agent: AgentConfig,
  ) {
    this.writes = new RealtimeWrites(deps, session, socket.streamSid, this.logger);
    this.ledger = new TurnLedger((ready, skipped) => this.flush(ready, skipped), CALLER_TRANSCRIPT_WAIT_MS);
    this.playback = new Playback(socket, this.ledger, session, (action) => this.state === 'live' && this.act(action));
    this.tools = new ToolCalls(agent, session, this.ledger, agent.transferNumber ?? deps.config.HUMAN_TRANSFER_NUMBER);
  }

  get callSid(): string {
    return this.session.callSid;
  }

  /** Opens the model session: configuration, what was said before (a replaced stream), then the greeting. */
  begin(): void {
    const c = this.deps.config;
    this.model = new RealtimeConnection(
      { url: c.OPENAI_REALTIME_URL, model: c.OPENAI_REALTIME_MODEL, apiKey: c.OPENAI_API_KEY, connectTimeoutMs: c.OPENAI_REALTIME_STALL_MS },
      {
        open: () => this.onOpen(),
        event: (event) => this.onModelEvent(event),
        malformed: (reason) => this.onMalformed(reason),
        failed: (failure) => this.fail(failure),
      },
    );
    this.model.send(sessionUpdate(c, this.agent, this.session));
    if (this.session.seq === 0) {
      this.requestResponse('greeting', `Greet the caller by saying exactly this, and nothing else: "${this.agent.greeting}"`);
      this.expectModel('greeting');
    } else {
      for (const item of historyItems(this.session)) this.model.send({ type: 'conversation.item.create', item });
    }
    this.limitTimer = setTimeout(() => this.endAtLimit(), c.OPENAI_REALTIME_MAX_CALL_SECONDS * 1000).unref();
    this.expireTimer = setInterval(() => this.ledger.expire(), 1000).unref();
  }

  onAudio(frame: Buffer): void {
    this.framesIn++;
    if (this.state === 'live') this.model.appendAudio(frame.toString('base64'));
    else if (this.state === 'connecting') this.preopen.write(frame);
  }

  /** The hot path: Twilio's base64 goes into the model's `append` as it is (μ-law both sides). */
  onAudioPayload(base64: string): void {
    this.framesIn++;
    if (this.state === 'live') this.model.appendAudio(base64);
    else if (this.state === 'connecting') this.preopen.write(Buffer.from(base64, 'base64'));
  }

  onMark(name: string): void {
    this.playback.onMark(name);
  }

  onDtmf(digit: string): void {
    if (this.state !== 'live' && this.state !== 'connecting') return;
    this.interrupt('dtmf');
    this.ledger.fill('caller', `dtmf-${this.writes.nextKey()}`, (write) => {
      write.turn({ speaker: 'caller', text: `[pressed ${digit}]`, action: 'dtmf' });
      appendHistory(this.session, { role: 'caller', text: `pressed ${digit}` });
      this.session.callerTurns += 1;
    });
    this.model.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `(The caller pressed ${digit} on the keypad.)` }] },
    });
    this.turnEndedAt = performance.now();
    this.requestResponse('reply');
    this.expectModel('answer to a key press');
  }

  async close(reason: StreamCloseReason): Promise<void> {
    if (this.state === 'closed' || this.closing) return;
    this.closing = true;
    this.stall.clear();
    clearTimeout(this.limitTimer);
    if (this.state === 'live' || this.state === 'connecting') this.state = 'failing';
    // The caller's last words are often still being transcribed when the call ends: wait a little.
    const until = Date.now() + TRANSCRIPTION_GRACE_MS;
    // Not when a newer stream takes over or the process stops: those must not wait.
    const wait = reason === 'stop' || reason === 'closed';
    while (wait && this.model?.open && this.ledger.awaitsCaller() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    this.state = 'closed';
    clearTimeout(this.releaseTimer);
    clearInterval(this.expireTimer);
    this.model?.close();
    this.preopen.clear(true);
    this.playback.close();
    this.ledger.finish();
    this.writes.write.event('stream_end', `stream_end:${this.socket.streamSid}`, {
      reason,
      engine: 'realtime',
      framesIn: this.framesIn,
      framesOut: this.socket.sent,
      droppedOut: this.socket.dropped,
      droppedIn: this.model?.droppedAudio ?? 0,
      malformedModelMessages: this.malformed || undefined,
    });
    this.writes.commit();
    await this.writes.drain();
    this.deps.released(this, reason);
  }

  private onOpen(): void {
    if (this.state !== 'connecting') return;
    this.state = 'live';
    const early = this.preopen.read();
    this.preopen.clear(true);
    if (early.length) this.model.appendAudio(early.toString('base64'));
  }

  /** One server event of the model. Public (and synchronous) so benchmarks can time it. */
  onModelEvent(event: ServerEvent): void {
    if (this.state !== 'live') {
      // Letting the model go: a caller's words it still transcribes belong in the transcript.
      if (this.state === 'failing' && event.type.startsWith('conversation.item.input_audio_transcription.')) dispatchModelEvent(event, this);
      return;
    }
    try {
      dispatchModelEvent(event, this);
    } catch (err) {
      // A model message we cannot use never takes the call (or the process) down.
      this.onMalformed(`${event.type}: ${(err as Error).message}`);
    }
  }

  // --- ModelEventHandler: the model's events, validated by dispatchModelEvent -------------------

  onAudioDelta(itemId: string, responseId: string | undefined, base64: string, bytes: number): void {
    const response = this.responses.get(responseId ?? '');
    if (response?.cancelled) return; // audio of an interrupted answer: never played
    const item = this.playback.get(itemId) ?? this.newItem(itemId, response);
    if (item.settled || !bytes) return;
    this.playback.send(item, base64, bytes);
    if (item.latencyMs === undefined && this.turnEndedAt !== undefined && item.purpose !== 'greeting') {
      item.latencyMs = Math.round(performance.now() - this.turnEndedAt);
      this.turnEndedAt = undefined;
    }
    // Audio flows: the model is alive. If it stops mid-answer, the caller still has the unplayed
    // audio to hear, so the stall clock starts from where playback will run dry.
    this.expectModel('rest of the answer', Math.max(0, item.sentMs - item.playedMs) + this.deps.config.OPENAI_REALTIME_STALL_MS, true);
  }

  onAudioDone(itemId: string | undefined): void {
    const item = this.playback.get(itemId);
    if (!item || item.settled) return;
    this.stall.clear();
    this.playback.audioDone(item);
  }

  onAgentTranscript(itemId: string | undefined, text: string, whole: boolean): void {
    const item = this.playback.get(itemId);
    if (!item) return;
    if (whole) item.transcript = text.slice(0, MAX_TRANSCRIPT_CHARS);
    else if (item.transcript.length < MAX_TRANSCRIPT_CHARS) item.transcript += text;
  }

  onSpeechStarted(): void {
    this.stall.clear();
    this.interrupt('speech');
  }

  onSpeechStopped(): void {
    this.turnEndedAt = performance.now();
    this.expectModel('answer');
  }

  onCallerCommitted(itemId: string): void {
    this.ledger.open('caller', itemId);
  }

  onCallerTranscript(itemId: string, transcript: string): void {
    const text = transcript.trim().slice(0, 2000);
    if (!text) return this.ledger.skip(itemId, 'empty transcription');
    const filled = this.ledger.fill('caller', itemId, (write) => {
      write.turn({ speaker: 'caller', text });
      appendHistory(this.session, { role: 'caller', text });
      this.session.callerTurns += 1;
    });
    if (!filled) this.logger.warn({ callSid: this.callSid, provider: REALTIME_PROVIDER }, 'late caller transcription dropped');
  }

  onCallerTranscriptionFailed(itemId: string): void {
    this.ledger.skip(itemId, 'transcription failed');
  }

  onResponseCreated(id: string, purpose: Purpose): void {
    const state: ModelResponse = { id, purpose, cancelled: false, functionCalls: 0, audioItems: 0 };
    this.responses.set(id, state);
    if (this.responses.size > 32) this.responses.delete(this.responses.keys().next().value!);
    this.active = state;
  }

  onItemAdded(itemId: string, responseId: string | undefined, type: unknown): void {
    const response = this.responses.get(responseId ?? '');
    if (response?.cancelled) return;
    if (type === 'message') this.newItem(itemId, response);
    else if (type === 'function_call') this.ledger.open('tool', itemId);
  }

  /** A function call is complete: run the tool here and give the model its result. */
  onFunctionCall(responseId: string | undefined, call: FunctionCall): void {
    const response = this.responses.get(responseId ?? '');
    if (response?.cancelled) return this.ledger.skip(call.itemId, 'response interrupted');
    this.stall.clear();
    if (response) response.functionCalls++;
    const output = this.tools.run(call);
    this.model.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.callId, output } });
    if (!response) this.continueAfterTools();
  }

  onResponseDone(id: string | undefined, status: string | undefined, failure: string | undefined): void {
    const state = this.responses.get(id ?? '');
    if (this.active?.id === id) this.active = undefined;
    if (!state) return;
    if (status === 'failed') return this.fail({ kind: 'closed', code: 0, detail: `response failed: ${failure ?? ''}`.trim().slice(0, 200) });
    this.playback.responseEnded(state);
    if (state.cancelled || status === 'cancelled') return this.stall.clear();
    if (!state.audioItems) this.stall.clear();
    if (state.functionCalls) this.continueAfterTools();
    else if (state.purpose === 'action' && !state.audioItems && this.tools.pending) {
      // The model said nothing: carry the action out anyway.
      this.act(this.tools.take()!);
    }
  }

  onModelError(code: string, message: string): void {
    // Cancelling a response that just finished, or truncating past what was sent, are races: harmless.
    if (/cancel|truncat/i.test(code) || /cancel|truncat/i.test(message)) return;
    if (FATAL_ERRORS.has(code)) return this.fail({ kind: 'closed', code: 0, detail: `${code}: ${message}` });
    this.logger.warn({ callSid: this.callSid, provider: REALTIME_PROVIDER, code, message }, 'OpenAI Realtime reported an error');
    this.writes.event('realtime_error', { provider: REALTIME_PROVIDER, code, message, fatal: false });
  }

  onMalformed(reason: string): void {
    this.malformed++;
    if (this.malformed <= LOGGED_MALFORMED) this.logger.warn({ callSid: this.callSid, provider: REALTIME_PROVIDER, reason }, 'ignored malformed OpenAI Realtime message');
  }

  // --- the conversation -------------------------------------------------------------------------

  private newItem(itemId: string, response: ModelResponse | undefined) {
    const { action, turnAction } = this.tools.forItem(response?.purpose ?? 'reply');
    return this.playback.add(itemId, response, action, turnAction);
  }

  /** Tool results are in: the model answers (or, before a transfer or hang-up, says exactly what we decided). */
  private continueAfterTools(): void {
    const announce = this.tools.pending;
    if (announce) this.requestResponse('action', `Say exactly this, and nothing else: "${announce.say}"`);
    else this.requestResponse('reply');
    this.expectModel('answer after a tool');
  }

  /**
   * Barge-in (or a key press while the agent talks): `clear` to Twilio first, then the model's
   * response is cancelled and every unplayed item truncated at what the marks say was played,
   * so the model and the transcript both keep only what the caller heard.
   */
  private interrupt(cause: 'speech' | 'dtmf'): void {
    const active = this.active && !this.active.cancelled ? this.active : undefined;
    if (!this.playback.speaking && !active) return;
    this.playback.clear();
    this.stall.clear();
    if (active) {
      active.cancelled = true;
      this.active = undefined;
      this.model.send({ type: 'response.cancel', response_id: active.id });
    }
    const heardMs = this.playback.cut((itemId, heard) => this.model.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: heard }));
    this.tools.take();
    this.writes.event('barge_in', { cause, items: heardMs.length, heardMs });
  }

  /** Transfer or hang-up through Twilio's REST API, once the announcement has played. */
  private act(decision: AgentDecision): void {
    this.session.agent = decision.state;
    void this.deps.control.act(this.session, decision, this.agent);
  }

  private requestResponse(purpose: Purpose, instructions?: string): void {
    this.model.send({
      type: 'response.create',
      response: { metadata: { purpose }, ...(instructions ? { instructions, tool_choice: 'none' as const } : {}) },
    });
  }

  /** The model owes us something within the stall budget (or `delayMs`); `restart` re-arms a running clock. */
  private expectModel(what: string, delayMs = this.deps.config.OPENAI_REALTIME_STALL_MS, restart = false): void {
    this.stall.expect(what, delayMs, restart);
  }

  // --- giving up on the model -------------------------------------------------------------------

  /**
   * The model cannot serve the call (refused, unreachable, closed, failed, stalled): whatever
   * plays stops, and Twilio gets new TwiML at once — a short apology, then a transfer when a
   * number is configured, else a goodbye. The stream ends with it.
   */
  private fail(failure: RealtimeFailure): void {
    if (!this.letGo()) return;
    const to = this.agent.transferNumber ?? this.deps.config.HUMAN_TRANSFER_NUMBER;
    const status = failure.kind === 'refused' ? failure.status : undefined;
    this.logger.error(
      { callSid: this.callSid, provider: REALTIME_PROVIDER, failure: failure.kind, status, detail: failure.detail },
      `OpenAI Realtime ${describeFailure(failure)}: apologising and ${to ? 'transferring the caller' : 'ending the call'}`,
    );
    this.writes.event('realtime_error', { provider: REALTIME_PROVIDER, failure: failure.kind, status, detail: failure.detail, fatal: true });
    this.redirect(apologyRedirect(this.agent, failure, to));
  }

  /** OPENAI_REALTIME_MAX_CALL_SECONDS reached: whatever plays stops, a goodbye, and the call ends. */
  private endAtLimit(): void {
    if (!this.letGo()) return;
    this.logger.warn({ callSid: this.callSid }, 'realtime call reached OPENAI_REALTIME_MAX_CALL_SECONDS: saying goodbye');
    this.redirect(timeLimitRedirect(this.agent));
  }

  /**
   * Stops using the model (once: false if it was already let go) and stops what plays. Its socket
   * stays open a moment if transcriptions of the caller are still owed.
   */
  private letGo(): boolean {
    if (this.state !== 'live' && this.state !== 'connecting') return false;
    this.state = 'failing';
    this.stall.clear();
    if (!this.model.open || !this.ledger.awaitsCaller()) this.model.close();
    else this.releaseTimer = setTimeout(() => this.model.close(), TRANSCRIPTION_GRACE_MS).unref();
    this.playback.stop();
    return true;
  }

  /** New TwiML for the call (Twilio speaks it and the stream ends); if even that fails, the socket is closed. */
  private redirect({ twiml, said, action, data }: CallRedirect): void {
    this.ledger.fill('agent', `redirect-${this.writes.nextKey()}`, (write) => {
      write.turn({ speaker: 'agent', text: said, action: action satisfies AgentAction, data: { engine: 'realtime', ...data } });
      appendHistory(this.session, { role: 'agent', text: said });
    });
    void this.deps.rest
      .redirectCall(this.callSid, twiml)
      .then((live) => this.writes.event(action, { live, ...data }))
      .catch((err: Error) => {
        this.logger.error({ callSid: this.callSid, err: err.message }, 'call update through the REST API failed: closing the stream');
        this.writes.event('error', { message: `redirect failed: ${err.message}`.slice(0, 300) });
        // Twilio then runs what follows <Connect>: nothing, so the call ends rather than staying silent.
        this.socket.close(1011, 'model unavailable');
      });
  }

  private flush(ready: ((write: CallWrite) => void)[], skipped: { kind: string; key: string; reason: string }[]): void {
    const write = this.writes.write;
    for (const fill of ready) fill(write);
    for (const skip of skipped) {
      if (skip.kind === 'caller') write.event('caller_turn_missing', `rt:missing:${skip.key}`, { reason: skip.reason });
    }
  }
}
