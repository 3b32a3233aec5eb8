import { Logger } from '@nestjs/common';
import { runTool, type AgentAction, type AgentConfig, type AgentDecision } from '#libs/agents';
import type { AppConfig } from '#libs/config';
import { AudioRing } from '#libs/media';
import { appendHistory, type CallSession } from '#libs/sessions';
import { Twiml, type TwilioRestService } from '#libs/telephony';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import type { CallRecorder, CallWrite } from '../../twilio/call-recorder.js';
import type { CallControl } from '../call-control.js';
import type { StreamCloseReason, StreamEngineCall } from '../stream-engine.js';
import type { StreamSocket } from '../stream-socket.js';
import { REALTIME_PROVIDER, RealtimeConnection, type RealtimeFailure, type ServerEvent } from './realtime-connection.js';
import { heardPrefix } from './heard-text.js';
import { describeFailure, historyItems, sessionUpdate, toolEffect } from './realtime-session.js';
import { StallClock } from './stall-clock.js';
import { TurnLedger } from './turn-ledger.js';

const APOLOGY_TRANSFER = "I'm sorry, I'm having trouble on my side. Let me put you through to a colleague.";
const APOLOGY_END = "I'm sorry, I'm having trouble on my side right now. Please call us back in a few minutes. Goodbye.";
const TIME_LIMIT = "We've reached the time limit for this call. Thank you for calling, goodbye.";
/** Caller audio kept while the model socket connects (8 bytes per ms of μ-law): 2 s. */
const PREOPEN_AUDIO_BYTES = 2000 * 8;
/** After an answer's last audio went out, how long to wait for its mark beyond what is still unplayed. */
const MARK_GRACE_MS = 3000;
/** How long a caller turn may hold back later turns waiting for its transcription. */
const CALLER_TRANSCRIPT_WAIT_MS = 8000;
/** Longest text kept per agent item (a runaway answer cannot grow a turn without bound). */
const MAX_TRANSCRIPT_CHARS = 4000;
/** Largest audio delta forwarded (base64 characters); a normal delta is a few KB. */
const MAX_DELTA_CHARS = 256 * 1024;
/** Typical speaking rate of the model's voices (about 15 characters a second). */
const SPEECH_MS_PER_CHAR = 65;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Audio between two marks of one answer: the precision of "what was played", and a bound on marks per second. */
const MARK_EVERY_MS = 100;
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

type Purpose = 'greeting' | 'reply' | 'action';

/** One response of the model. */
interface ModelResponse {
  id: string;
  purpose: Purpose;
  cancelled: boolean;
  functionCalls: number;
  audioItems: number;
}

/** One assistant message of the model, as it is sent to Twilio and played. */
interface SpokenItem {
  /** Local number, used in mark names (short, and never the model's id). */
  index: number;
  itemId: string;
  response?: ModelResponse;
  purpose: Purpose;
  sentMs: number;
  playedMs: number;
  /** Audio position of the last mark sent. */
  markedMs: number;
  transcript: string;
  audioDone: boolean;
  /** The response ended before this item's audio did (cancelled, incomplete): only what was sent can be heard. */
  cut: boolean;
  settled: boolean;
  latencyMs?: number;
  /** The action this item announces (transfer, hang-up), carried out once it has played. */
  action?: AgentDecision;
  /** For the stored turn: what the answer did (route …). */
  turnAction?: AgentAction | 'greeting' | 'apology';
  graceTimer?: NodeJS.Timeout;
}

/** failing: the model is being let go (caller audio no longer forwarded); only late transcriptions are still read. */
type State = 'connecting' | 'live' | 'failing' | 'closed';
type Str = (v: unknown) => string | undefined;
const str: Str = (v) => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/**
 * One stream call bridged to a speech-to-speech model (the OpenAI Realtime API): Twilio's μ-law
 * frames go to the model as they arrive, the model's μ-law deltas go to Twilio as they arrive,
 * each followed by a mark so the echoes tell how much of every answer was played. The model
 * detects turns; on its `speech_started` while the agent talks, `clear` goes to Twilio first,
 * then the response is cancelled and the item truncated at the played position. Tools run here.
 * Turns are stored in conversation order through a ledger. Any failure of the model ends in an
 * apology and a transfer (or a polite goodbye) through Twilio's REST API.
 */
export class RealtimeCall implements StreamEngineCall {
  private readonly logger = new Logger('RealtimeCall');
  private state: State = 'connecting';
  private model!: RealtimeConnection;
  /** Bumped at every `clear`: marks pending at it come back stale and are ignored. */
  private generation = 0;
  private readonly preopen = new AudioRing(PREOPEN_AUDIO_BYTES);
  private readonly items = new Map<string, SpokenItem>();
  private readonly itemsByIndex = new Map<number, SpokenItem>();
  private readonly responses = new Map<string, ModelResponse>();
  private active?: ModelResponse;
  private itemCounter = 0;
  private readonly ledger: TurnLedger;
  private readonly stall = new StallClock((what, ms) => this.fail({ kind: 'timeout', detail: `no ${what} from the model in ${Math.round(ms)} ms` }));
  private limitTimer?: NodeJS.Timeout;
  private expireTimer?: NodeJS.Timeout;
  /** A transfer or hang-up decided by a tool, announced by the next response. */
  private pendingAction?: AgentDecision;
  /** What the next reply does (set by route_department). */
  private nextTurnAction?: AgentAction;
  /** When the caller's last turn ended (speech_stopped), for the answer's latency. */
  private turnEndedAt?: number;
  private readonly pendingWrites = new Set<Promise<void>>();
  private eventCounter = 0;
  private closing = false;
  private batch?: CallWrite;
  private persisting?: Promise<void>;
  private persistAgain = false;
  private releaseTimer?: NodeJS.Timeout;
  private writeCounter = 0;
  private malformed = 0;
  framesIn = 0;

  constructor(
    private readonly deps: RealtimeCallDeps,
    readonly socket: StreamSocket,
    readonly session: CallSession,
    private readonly agent: AgentConfig,
  ) {
    this.ledger = new TurnLedger((ready, skipped) => this.flush(ready, skipped), CALLER_TRANSCRIPT_WAIT_MS);
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
      this.replayHistory();
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
    const match = /^r(\d+)\.(\d+)\.(\d+|end)$/.exec(name);
    if (!match || Number(match[1]) !== this.generation) return; // stale (cleared) or not ours
    const item = this.itemsByIndex.get(Number(match[2]));
    if (!item || item.settled) return;
    if (match[3] === 'end') {
      item.playedMs = item.sentMs;
      this.settle(item, false);
    } else {
      item.playedMs = Math.max(item.playedMs, Number(match[3]));
    }
  }

  onDtmf(digit: string): void {
    if (this.state !== 'live' && this.state !== 'connecting') return;
    this.interrupt('dtmf');
    this.ledger.fill('caller', `dtmf-${++this.eventCounter}`, (write) => {
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
    this.generation++;
    clearTimeout(this.releaseTimer);
    clearInterval(this.expireTimer);
    this.model?.close();
    this.preopen.clear(true);
    for (const item of this.items.values()) this.settle(item, item.sentMs > item.playedMs || !item.audioDone);
    this.ledger.finish();
    const write = this.writer();
    write.event('stream_end', `stream_end:${this.socket.streamSid}`, {
      reason,
      engine: 'realtime',
      framesIn: this.framesIn,
      framesOut: this.socket.sent,
      droppedOut: this.socket.dropped,
      droppedIn: this.model?.droppedAudio ?? 0,
      malformedModelMessages: this.malformed || undefined,
    });
    this.commitBatch();
    await Promise.allSettled([...this.pendingWrites]);
    this.deps.released(this, reason);
  }

  /** A stream that replaces an earlier one: the new model session learns what was already said. */
  private replayHistory(): void {
    for (const item of historyItems(this.session)) this.model.send({ type: 'conversation.item.create', item });
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
      if (this.state === 'failing' && event.type.startsWith('conversation.item.input_audio_transcription.')) this.dispatch(event);
      return;
    }
    try {
      this.dispatch(event);
    } catch (err) {
      // A model message we cannot use never takes the call (or the process) down.
      this.onMalformed(`${event.type}: ${(err as Error).message}`);
    }
  }

  private dispatch(event: ServerEvent): void {
    // Typed against the SDK's GA event names, so a misspelt or beta-era name fails to compile.
    const type = event.type as RealtimeServerEvent['type'];
    switch (type) {
      case 'response.output_audio.delta':
        return this.onAudioDelta(event);
      case 'input_audio_buffer.speech_started':
        this.clearStall();
        return this.interrupt('speech');
      case 'input_audio_buffer.speech_stopped':
        this.turnEndedAt = performance.now();
        return this.expectModel('answer');
      case 'input_audio_buffer.committed': {
        const itemId = str(event.item_id);
        if (itemId) this.ledger.open('caller', itemId);
        return;
      }
      case 'conversation.item.input_audio_transcription.completed':
        return this.onCallerTranscript(str(event.item_id), str(event.transcript));
      case 'conversation.item.input_audio_transcription.failed': {
        const itemId = str(event.item_id);
        if (itemId) this.ledger.skip(itemId, 'transcription failed');
        return;
      }
      case 'response.created':
        return this.onResponseCreated(obj(event.response));
      case 'response.output_item.added':
        return this.onItemAdded(str(event.response_id), obj(event.item));
      case 'response.output_audio_transcript.delta': {
        const item = this.items.get(str(event.item_id) ?? '');
        const delta = str(event.delta);
        if (item && delta && item.transcript.length < MAX_TRANSCRIPT_CHARS) item.transcript += delta;
        return;
      }
      case 'response.output_audio_transcript.done': {
        const item = this.items.get(str(event.item_id) ?? '');
        const transcript = str(event.transcript);
        if (item && transcript !== undefined) item.transcript = transcript.slice(0, MAX_TRANSCRIPT_CHARS);
        return;
      }
      case 'response.output_audio.done':
        return this.onAudioDone(str(event.item_id));
      case 'response.output_item.done':
        return this.onItemDone(str(event.response_id), obj(event.item));
      case 'response.done':
        return this.onResponseDone(obj(event.response));
      case 'error':
        return this.onModelError(obj(event.error));
      default:
        return; // session.*, rate_limits.updated, content parts …: nothing to do
    }
  }

  private onAudioDelta(event: ServerEvent): void {
    const itemId = str(event.item_id);
    const delta = event.delta;
    if (!itemId || typeof delta !== 'string' || delta.length > MAX_DELTA_CHARS || delta.length % 4 !== 0 || !BASE64.test(delta)) {
      return this.onMalformed('bad audio delta');
    }
    const response = this.responses.get(str(event.response_id) ?? '');
    if (response?.cancelled) return; // audio of an interrupted answer: never played
    const item = this.items.get(itemId) ?? this.newItem(itemId, response);
    if (item.settled) return;
    const bytes = (delta.length / 4) * 3 - (delta.endsWith('==') ? 2 : delta.endsWith('=') ? 1 : 0);
    if (!bytes) return;
    this.socket.sendPayload(delta);
    item.sentMs += bytes / 8;
    // Small deltas share a mark: marks are the only truth about playback, but one per 100 ms is plenty.
    if (item.sentMs - item.markedMs >= MARK_EVERY_MS) {
      item.markedMs = item.sentMs;
      this.socket.sendMark(`r${this.generation}.${item.index}.${Math.floor(item.sentMs)}`);
    }
    if (item.latencyMs === undefined && this.turnEndedAt !== undefined && item.purpose !== 'greeting') {
      item.latencyMs = Math.round(performance.now() - this.turnEndedAt);
      this.turnEndedAt = undefined;
    }
    // Audio flows: the model is alive. If it stops mid-answer, the caller still has the unplayed
    // audio to hear, so the stall clock starts from where playback will run dry.
    this.expectModel('rest of the answer', Math.max(0, item.sentMs - item.playedMs) + this.deps.config.OPENAI_REALTIME_STALL_MS, true);
  }

  private onAudioDone(itemId: string | undefined): void {
    const item = this.items.get(itemId ?? '');
    if (!item || item.settled) return;
    item.audioDone = true;
    this.clearStall();
    this.socket.sendMark(`r${this.generation}.${item.index}.end`);
    // A lost mark must not leave the answer unsettled (and its action undone) for ever.
    item.graceTimer = setTimeout(() => this.settle(item, false), Math.max(0, item.sentMs - item.playedMs) + MARK_GRACE_MS);
  }

  private onCallerTranscript(itemId: string | undefined, transcript: string | undefined): void {
    if (!itemId || transcript === undefined) return this.onMalformed('bad transcription event');
    const text = transcript.trim().slice(0, 2000);
    if (!text) return this.ledger.skip(itemId, 'empty transcription');
    const filled = this.ledger.fill('caller', itemId, (write) => {
      write.turn({ speaker: 'caller', text });
      appendHistory(this.session, { role: 'caller', text });
      this.session.callerTurns += 1;
    });
    if (!filled) this.logger.warn({ callSid: this.callSid, provider: REALTIME_PROVIDER }, 'late caller transcription dropped');
  }

  private onResponseCreated(response: Record<string, unknown> | undefined): void {
    const id = str(response?.id);
    if (!id) return this.onMalformed('response without id');
    const purpose = str(obj(response?.metadata)?.purpose);
    const state: ModelResponse = { id, purpose: purpose === 'greeting' || purpose === 'action' ? purpose : 'reply', cancelled: false, functionCalls: 0, audioItems: 0 };
    this.responses.set(id, state);
    if (this.responses.size > 32) this.responses.delete(this.responses.keys().next().value!);
    this.active = state;
  }

  private onItemAdded(responseId: string | undefined, item: Record<string, unknown> | undefined): void {
    const itemId = str(item?.id);
    if (!itemId) return this.onMalformed('output item without id');
    const response = this.responses.get(responseId ?? '');
    if (response?.cancelled) return;
    if (item?.type === 'message') this.newItem(itemId, response);
    else if (item?.type === 'function_call') this.ledger.open('tool', itemId);
  }

  private newItem(itemId: string, response: ModelResponse | undefined): SpokenItem {
    const purpose = response?.purpose ?? 'reply';
    const item: SpokenItem = {
      index: ++this.itemCounter, itemId, response, purpose, sentMs: 0, playedMs: 0, markedMs: 0, transcript: '', audioDone: false, cut: false, settled: false,
      action: purpose === 'action' ? this.pendingAction : undefined,
      turnAction: purpose === 'greeting' ? 'greeting' : purpose === 'action' ? this.pendingAction?.action : this.nextTurnAction,
    };
    if (purpose === 'action') this.pendingAction = undefined;
    else if (purpose === 'reply') this.nextTurnAction = undefined;
    if (response) response.audioItems++;
    this.items.set(itemId, item);
    this.itemsByIndex.set(item.index, item);
    this.ledger.open('agent', itemId);
    return item;
  }

  /** A function call is complete: run the tool here and give the model its result. */
  private onItemDone(responseId: string | undefined, item: Record<string, unknown> | undefined): void {
    if (item?.type !== 'function_call') return;
    const itemId = str(item.id);
    const callId = str(item.call_id);
    const name = str(item.name);
    if (!itemId || !callId || !name) return this.onMalformed('function call without id or name');
    const response = this.responses.get(responseId ?? '');
    if (response?.cancelled) return this.ledger.skip(itemId, 'response interrupted');
    this.clearStall();
    if (response) response.functionCalls++;
    const outcome = runTool({ id: callId, name, arguments: str(item.arguments) ?? '' }, { agent: this.agent, transferTo: this.agent.transferNumber ?? this.deps.config.HUMAN_TRANSFER_NUMBER });
    this.ledger.fill('tool', itemId, (write) => {
      write.tool(outcome.record);
      appendHistory(this.session, { role: 'tool', text: `${outcome.record.name}${outcome.record.result ? ` → ${outcome.record.result}` : ''}` });
    });
    const effect = toolEffect(outcome, this.session.agent);
    if (effect.department) this.session.agent.department = effect.department;
    if (effect.nextTurnAction) this.nextTurnAction = effect.nextTurnAction;
    if (effect.announce) this.pendingAction = effect.announce;
    const output = effect.output;
    this.model.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } });
    if (!response) this.continueAfterTools();
  }

  private onResponseDone(response: Record<string, unknown> | undefined): void {
    const id = str(response?.id);
    const state = this.responses.get(id ?? '');
    if (this.active?.id === id) this.active = undefined;
    if (!state) return;
    const status = str(response?.status);
    if (status === 'failed') {
      const error = obj(obj(response?.status_details)?.error);
      return this.fail({ kind: 'closed', code: 0, detail: `response failed: ${str(error?.code) ?? ''} ${str(error?.message) ?? ''}`.trim().slice(0, 200) });
    }
    // Items whose audio stopped with the response: what was sent plays out, the rest never existed.
    for (const item of [...this.items.values()]) {
      if (item.response !== state || item.audioDone || item.settled) continue;
      if (item.sentMs === 0) {
        this.items.delete(item.itemId);
        this.itemsByIndex.delete(item.index);
        this.ledger.skip(item.itemId, 'no audio');
        continue;
      }
      item.cut = true;
      this.onAudioDone(item.itemId);
    }
    if (state.cancelled || status === 'cancelled') return this.clearStall();
    if (!state.audioItems) this.clearStall();
    if (state.functionCalls) this.continueAfterTools();
    else if (state.purpose === 'action' && !state.audioItems && this.pendingAction) {
      // The model said nothing: carry the action out anyway.
      const action = this.pendingAction;
      this.pendingAction = undefined;
      this.act(action);
    }
  }

  /** Tool results are in: the model answers (or, before a transfer or hang-up, says exactly what we decided). */
  private continueAfterTools(): void {
    if (this.pendingAction) this.requestResponse('action', `Say exactly this, and nothing else: "${this.pendingAction.say}"`);
    else this.requestResponse('reply');
    this.expectModel('answer after a tool');
  }

  private onModelError(error: Record<string, unknown> | undefined): void {
    const code = str(error?.code) ?? '';
    const message = (str(error?.message) ?? '').slice(0, 300);
    // Cancelling a response that just finished, or truncating past what was sent, are races: harmless.
    if (/cancel|truncat/i.test(code) || /cancel|truncat/i.test(message)) return;
    if (FATAL_ERRORS.has(code)) return this.fail({ kind: 'closed', code: 0, detail: `${code}: ${message}` });
    this.logger.warn({ callSid: this.callSid, provider: REALTIME_PROVIDER, code, message }, 'OpenAI Realtime reported an error');
    this.event('realtime_error', { provider: REALTIME_PROVIDER, code, message, fatal: false });
  }

  private onMalformed(reason: string): void {
    this.malformed++;
    if (this.malformed <= LOGGED_MALFORMED) this.logger.warn({ callSid: this.callSid, provider: REALTIME_PROVIDER, reason }, 'ignored malformed OpenAI Realtime message');
  }

  /**
   * Barge-in (or a key press while the agent talks): `clear` to Twilio first, then the model's
   * response is cancelled and every unplayed item truncated at what the marks say was played,
   * so the model and the transcript both keep only what the caller heard.
   */
  private interrupt(cause: 'speech' | 'dtmf'): void {
    const speaking = [...this.items.values()].filter((i) => !i.settled);
    const active = this.active && !this.active.cancelled ? this.active : undefined;
    if (!speaking.length && !active) return;
    this.socket.sendClear();
    this.clearStall();
    this.generation++;
    if (active) {
      active.cancelled = true;
      this.active = undefined;
      this.model.send({ type: 'response.cancel', response_id: active.id });
    }
    for (const item of speaking) {
      const heard = Math.floor(Math.min(item.sentMs, item.playedMs));
      this.model.send({ type: 'conversation.item.truncate', item_id: item.itemId, content_index: 0, audio_end_ms: heard });
      this.settle(item, true);
    }
    this.pendingAction = undefined;
    this.event('barge_in', { cause, items: speaking.length, heardMs: speaking.map((i) => Math.floor(Math.min(i.sentMs, i.playedMs))) });
  }

  /** Stores the item (cut to what was heard when interrupted) and carries out what it announced. */
  private settle(item: SpokenItem, interrupted: boolean): void {
    if (item.settled) return;
    item.settled = true;
    clearTimeout(item.graceTimer);
    this.items.delete(item.itemId);
    this.itemsByIndex.delete(item.index);
    const planned = item.transcript.trim();
    // While the answer is still being produced its transcript runs ahead of the audio sent so far:
    // measure the share heard against the whole answer's likely length then.
    const totalMs = item.audioDone ? item.sentMs : Math.max(item.sentMs, planned.length * SPEECH_MS_PER_CHAR);
    const text = interrupted ? heardPrefix(planned, item.playedMs, totalMs) : item.cut ? heardPrefix(planned, item.sentMs, Math.max(item.sentMs, planned.length * SPEECH_MS_PER_CHAR)) : planned;
    interrupted ||= item.cut && text !== planned;
    if (!text && !interrupted) {
      this.ledger.skip(item.itemId, 'nothing said');
    } else {
      this.ledger.fill('agent', item.itemId, (write) => {
        write.turn({
          speaker: 'agent',
          text,
          interrupted: interrupted || undefined,
          latencyMs: item.latencyMs,
          action: item.turnAction ?? (item.action?.action),
          data: { engine: 'realtime', heardMs: Math.floor(Math.min(item.playedMs, item.sentMs)), sentMs: Math.floor(item.sentMs), planned: interrupted ? planned : undefined },
        });
        if (text) appendHistory(this.session, { role: 'agent', text });
      });
    }
    if (!interrupted && item.action && this.state === 'live') this.act(item.action);
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

  private clearStall(): void {
    this.stall.clear();
  }

  /**
   * The model cannot serve the call (refused, unreachable, closed, failed, stalled): whatever
   * plays stops, and Twilio gets new TwiML at once — a short apology, then a transfer when a
   * number is configured, else a goodbye. The stream ends with it.
   */
  private fail(failure: RealtimeFailure): void {
    if (this.state !== 'live' && this.state !== 'connecting') return;
    this.state = 'failing';
    this.clearStall();
    this.letModelGo();
    const to = this.agent.transferNumber ?? this.deps.config.HUMAN_TRANSFER_NUMBER;
    this.logger.error(
      { callSid: this.callSid, provider: REALTIME_PROVIDER, failure: failure.kind, status: failure.kind === 'refused' ? failure.status : undefined, detail: failure.detail },
      `OpenAI Realtime ${describeFailure(failure)}: apologising and ${to ? 'transferring the caller' : 'ending the call'}`,
    );
    this.event('realtime_error', { provider: REALTIME_PROVIDER, failure: failure.kind, status: failure.kind === 'refused' ? failure.status : undefined, detail: failure.detail, fatal: true });
    const speaking = [...this.items.values()].filter((i) => !i.settled);
    if (speaking.length) {
      this.socket.sendClear();
      this.generation++;
      for (const item of speaking) this.settle(item, true);
    }
    const apology = to ? APOLOGY_TRANSFER : APOLOGY_END;
    this.redirect(to ? Twiml.transfer(this.voice, apology, to) : Twiml.hangup(this.voice, apology), apology, to ? 'transfer' : 'hangup', { reason: failure.kind, transferTo: to });
  }

  private endAtLimit(): void {
    if (this.state !== 'live' && this.state !== 'connecting') return;
    this.state = 'failing';
    this.clearStall();
    this.letModelGo();
    this.logger.warn({ callSid: this.callSid }, 'realtime call reached OPENAI_REALTIME_MAX_CALL_SECONDS: saying goodbye');
    if ([...this.items.values()].some((i) => !i.settled)) {
      this.socket.sendClear();
      this.generation++;
      for (const item of this.items.values()) this.settle(item, true);
    }
    this.redirect(Twiml.hangup(this.voice, TIME_LIMIT), TIME_LIMIT, 'hangup', { reason: 'max_duration' });
  }

  /** Stops using the model; its socket stays open a moment if transcriptions of the caller are still owed. */
  private letModelGo(): void {
    if (!this.model.open || !this.ledger.awaitsCaller()) return this.model.close();
    this.releaseTimer = setTimeout(() => this.model.close(), TRANSCRIPTION_GRACE_MS).unref();
  }

  /** New TwiML for the call (Twilio speaks it and the stream ends); if even that fails, the socket is closed. */
  private redirect(twiml: string, said: string, action: AgentAction, data: Record<string, unknown>): void {
    this.ledger.fill('agent', `redirect-${++this.eventCounter}`, (write) => {
      write.turn({ speaker: 'agent', text: said, action, data: { engine: 'realtime', ...data } });
      appendHistory(this.session, { role: 'agent', text: said });
    });
    void this.deps.rest
      .redirectCall(this.callSid, twiml)
      .then((live) => this.event(action, { live, ...data }))
      .catch((err: Error) => {
        this.logger.error({ callSid: this.callSid, err: err.message }, 'call update through the REST API failed: closing the stream');
        this.event('error', { message: `redirect failed: ${err.message}`.slice(0, 300) });
        // Twilio then runs what follows <Connect>: nothing, so the call ends rather than staying silent.
        this.socket.close(1011, 'model unavailable');
      });
  }

  private get voice() {
    return { voice: this.agent.voice, language: this.agent.language };
  }

  private event(type: string, data: Record<string, unknown>): void {
    this.writer().event(type, `rt:${type}:${this.socket.streamSid}:${++this.eventCounter}`, data);
  }

  private flush(ready: ((write: CallWrite) => void)[], skipped: { kind: string; key: string; reason: string }[]): void {
    const write = this.writer();
    for (const fill of ready) fill(write);
    for (const skip of skipped) {
      if (skip.kind === 'caller') write.event('caller_turn_missing', `rt:missing:${skip.key}`, { reason: skip.reason });
    }
  }

  /**
   * The write being gathered in this turn of the event loop: a barge-in's cut turn, its event and
   * the turns it releases go out as one keyed transcript job (and one session save), not three.
   */
  private writer(): CallWrite {
    if (!this.batch) {
      this.batch = this.deps.recorder.begin(this.session);
      queueMicrotask(() => this.commitBatch());
    }
    return this.batch;
  }

  private commitBatch(): void {
    const write = this.batch;
    this.batch = undefined;
    if (!write || (!write.turns.length && !write.events.length)) return;
    const first = write.turns[0]?.seq;
    const key = first !== undefined ? `turns-${first}` : `ev-${this.socket.streamSid}-${++this.writeCounter}`;
    const done = this.deps.recorder
      .commit(this.session, `rt-${key}`, write)
      .then(() => this.persistSession())
      .catch((err: Error) => this.logger.error({ callSid: this.callSid, err: err.message }, 'transcript write failed'))
      .finally(() => this.pendingWrites.delete(done));
    this.pendingWrites.add(done);
  }

  /** Saves the live session; saves asked for while one runs are folded into one more. */
  private persistSession(): Promise<void> {
    if (this.persisting) {
      this.persistAgain = true;
      return this.persisting;
    }
    const run = async () => {
      do {
        this.persistAgain = false;
        await this.deps.persist(this.session);
      } while (this.persistAgain);
    };
    this.persisting = run().finally(() => (this.persisting = undefined));
    return this.persisting;
  }
}
