import { Logger } from '@nestjs/common';
import type { AgentConfig, AgentDecision, AgentInput } from '#libs/agents';
import type { AppConfig } from '#libs/config';
import {
  AudioRing, EnergyVad, FramePacer, FRAME_MS, isStreamingSynthesizer, mulawLevelDb, SpeechAuthError, type SpeechProviderError, type SpeechRecognizer,
  type SpeechSynthesizer, type StreamingRecognitionSession, type StreamingSpeechRecognizer, type Transcript, type VadEvent,
} from '#libs/media';
import type { AgentTurnJobResult } from '#libs/queues';
import { streamTurnTimings } from '#libs/metrics';
import { appendHistory, type CallSession } from '#libs/sessions';
import type { CallRecorder } from '../twilio/call-recorder.js';
import type { AgentTurnRunner, RunningTurn } from './agent-turn.runner.js';
import { agentGrammar } from './agent-grammar.js';
import type { CallControl } from './call-control.js';
import { SpokenAnswer } from './spoken-answer.js';
import type { StreamSocket } from './stream-socket.js';

const APOLOGY = "I'm sorry, I couldn't look that up just now. Could you say that again?";
/** Audio kept from before speech is confirmed, so the recogniser hears the first word. */
const PREROLL_MS = 500;
/** Interim text shorter than this is not trusted to interrupt the agent (a cough, "uh"). */
const MIN_BARGE_IN_CHARS = 6;
/** After we stopped waiting for a slow provider's end of turn, its late words on that turn (interim and final) are ignored for this long. */
const LATE_TURN_MS = 3000;

/** What a stream call needs from the app (one bundle, shared by every call of the process). */
export interface StreamCallDeps {
  config: AppConfig;
  recorder: CallRecorder;
  runner: AgentTurnRunner;
  control: CallControl;
  stt: SpeechRecognizer;
  /** A streaming recogniser (cloud): when set it ends turns and triggers barge-in; `stt` + the VAD are its fallback. */
  streamingStt?: StreamingSpeechRecognizer;
  tts: SpeechSynthesizer;
  persist(session: CallSession): Promise<void>;
  /** Called once when the call is finished with (stop, close, or replaced). */
  released(call: StreamCall, reason: string): void;
}

export type StreamState = 'listening' | 'user' | 'thinking' | 'speaking' | 'closed';

interface AnswerRecord {
  answer: SpokenAnswer;
  /** The stored agent turn (text filled in when the answer settles). */
  turn?: RunningTurn;
  decision?: AgentDecision;
  latencyMs?: number;
  greeting: boolean;
  receivedAt: number;
  /** Stage marks (epoch ms) and the worker's timings, stored with the turn as its `timings`. */
  at: { recognized?: number; firstText?: number; firstAudio?: number };
  worker?: AgentTurnJobResult['timings'];
  /** Prepared before the end of turn and committed by it (stored with the turn's data). */
  speculative?: boolean;
}

/**
 * A caller turn prepared before the end of turn commits it (MEDIA_SPECULATIVE_MS): recognised,
 * asked of the agent and its first sentence synthesised, all held back. Nothing of it is stored,
 * added to the history or sent to the caller unless the end of turn adopts it; if the caller
 * speaks again first it is cancelled (recognition aborted, agent turn cancelled, TTS killed).
 */
interface Speculation {
  /** The call's generation when it began: anything that bumps it (DTMF, close) voids it. */
  generation: number;
  abort: AbortController;
  /** Offline: recognition of the utterance so far; undefined when it failed or was aborted. */
  recognition?: Promise<Transcript | undefined>;
  /** The words the answer is being prepared for. */
  transcript?: Transcript;
  /** The held answer, once the words were good enough to ask the agent. */
  record?: AnswerRecord;
  /** Settles once the held answer's agent turn is queued. */
  started?: Promise<void>;
}

/**
 * One call on a media stream, owned by one socket at a time: inbound audio → VAD → STT →
 * agent turn → TTS → paced audio out, with barge-in. Every transition bumps `generation`;
 * anything that arrives for an older generation (tokens, TTS audio, marks) is dropped.
 */
export class StreamCall {
  private readonly logger = new Logger('StreamCall');
  state: StreamState = 'listening';
  private generation = 0;
  private readonly vad: EnergyVad;
  private readonly preroll: AudioRing;
  private readonly utterance: AudioRing;
  readonly pacer: FramePacer;
  private current?: AnswerRecord;
  private lastTimestamp = -1;
  private recognition?: AbortController;
  private watchdog?: NodeJS.Timeout;
  private pendingWrites = new Set<Promise<void>>();
  private eventCounter = 0;
  /** The call's streaming recognition session, while the provider works. */
  private live?: StreamingRecognitionSession;
  /** Local end of speech seen, the provider's end of turn not yet: when it fires we stop waiting. */
  private providerDeadline?: { timer: NodeJS.Timeout; run(): void };
  /** The provider ended the turn while the local VAD still heard speech: that utterance is answered already. */
  private answeredByProvider = false;
  private ignoreProviderTurnsUntil = 0;
  /** The caller's turn being prepared during a pause, if any. */
  private speculation?: Speculation;
  framesIn = 0;
  /** Speculative turns begun, adopted by the end of turn, and thrown away (the caller went on). */
  readonly speculations = { started: 0, committed: 0, discarded: 0 };

  constructor(
    private readonly deps: StreamCallDeps,
    readonly socket: StreamSocket,
    readonly session: CallSession,
    private readonly agent: AgentConfig,
  ) {
    const c = deps.config;
    this.vad = new EnergyVad({ thresholdDb: c.MEDIA_VAD_THRESHOLD_DB, minSpeechMs: c.MEDIA_MIN_SPEECH_MS, endSilenceMs: c.MEDIA_END_OF_TURN_MS });
    // 8 bytes per ms of 8 kHz μ-law.
    this.preroll = new AudioRing((PREROLL_MS + c.MEDIA_MIN_SPEECH_MS) * 8);
    this.utterance = new AudioRing(c.MEDIA_MAX_UTTERANCE_MS * 8);
    this.pacer = new FramePacer(socket, { leadMs: c.MEDIA_PACING_LEAD_MS, maxQueuedFrames: Math.ceil(c.MEDIA_MAX_QUEUED_AUDIO_MS / FRAME_MS) });
  }

  get callSid(): string {
    return this.session.callSid;
  }

  /** The stream is bound: greet on the first stream of the call. */
  begin(): void {
    this.startLiveRecognition();
    if (this.session.seq === 0) this.speakGreeting();
  }

  /**
   * One inbound frame (base64-decoded and size-checked). `frame` may be a scratch buffer reused
   * for the next message: it is copied, never kept.
   */
  onAudio(frame: Buffer, timestampMs: number | undefined): void {
    if (this.state === 'closed') return;
    this.framesIn++;
    const at = timestampMs ?? (this.lastTimestamp < 0 ? 0 : this.lastTimestamp + FRAME_MS);
    // Twilio leaves gaps in `timestamp` when packets are lost: count them as silence.
    if (this.lastTimestamp >= 0 && at - this.lastTimestamp > 3 * FRAME_MS) {
      const event = this.vad.addSilence(Math.min(at - this.lastTimestamp - FRAME_MS, 10_000), at);
      if (event) this.onVad(event);
    }
    this.lastTimestamp = Math.max(this.lastTimestamp, at);
    this.live?.sendAudio(frame);
    if (this.vad.state === 'speech') {
      this.utterance.write(frame);
      this.watchdog?.refresh();
    } else {
      this.preroll.write(frame);
    }
    const event = this.vad.push(mulawLevelDb(frame), at);
    if (event) this.onVad(event);
    else this.watchSpeculation();
  }

  /** Twilio echoed a mark: the audio before it has played. */
  onMark(name: string): void {
    const match = /^a(\d+)\.(\d+)$/.exec(name);
    if (!match || !this.current || Number(match[1]) !== this.current.answer.generation) return; // stale or cleared
    this.current.answer.onMark(Number(match[2]));
  }

  onDtmf(digit: string): void {
    if (this.state === 'closed') return;
    this.discardSpeculation();
    this.interrupt('dtmf');
    const write = this.deps.recorder.begin(this.session);
    write.event('dtmf', `dtmf:${this.session.step}:${++this.eventCounter}`, { digit });
    write.turn({ speaker: 'caller', text: `[pressed ${digit}]`, action: 'dtmf' });
    this.commit(write, `dtmf-${this.session.seq}`);
    appendHistory(this.session, { role: 'caller', text: `pressed ${digit}` });
    this.session.callerTurns += 1;
    void this.respond({ kind: 'dtmf', text: digit }, Date.now());
  }

  /**
   * Ends the call's pipeline: every timer, child process, queue and subscription is released
   * and the transcript flushed. Idempotent (stop, close and replacement race).
   */
  async close(reason: 'stop' | 'closed' | 'replaced' | 'shutdown'): Promise<void> {
    if (this.state === 'closed') return;
    const current = this.current;
    this.current = undefined;
    if (current) this.settle(current, true);
    this.discardSpeculation();
    this.state = 'closed';
    this.generation++;
    clearTimeout(this.watchdog);
    clearTimeout(this.providerDeadline?.timer);
    this.live?.close();
    this.live = undefined;
    this.recognition?.abort();
    this.pacer.dispose();
    this.preroll.clear(true);
    this.utterance.clear(true);
    const write = this.deps.recorder.begin(this.session);
    write.event('stream_end', `stream_end:${this.socket.streamSid}`, {
      reason,
      framesIn: this.framesIn,
      framesOut: this.socket.sent,
      droppedOut: this.pacer.dropped + this.socket.dropped,
      droppedInMs: this.utterance.dropped / 8,
    });
    this.commit(write, `end-${this.socket.streamSid}`);
    await Promise.allSettled([...this.pendingWrites]);
    this.deps.released(this, reason);
  }

  private onVad(event: VadEvent): void {
    if (event.type === 'speech-start') {
      // The confirmed speech began `minSpeech` ago: keep it (and a little before) for the recogniser.
      this.utterance.write(this.preroll.read());
      this.preroll.clear();
      this.answeredByProvider = false;
      // With a streaming recogniser, its interim words decide a barge-in: line noise loud enough for
      // the energy VAD does not cut the agent off.
      if (this.current && !this.live) this.interrupt('speech', event);
      this.state = 'user';
      this.watchdog ??= setTimeout(() => this.onStall(), this.deps.config.MEDIA_END_OF_TURN_MS + 200);
      this.watchdog.refresh();
      return;
    }
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const audio = this.utterance.read();
    this.utterance.clear(true); // a quiet call should not keep 15 s of buffer around
    if (!this.live) return void this.endTurn(audio, Date.now());
    if (this.answeredByProvider) {
      this.answeredByProvider = false;
      return;
    }
    // The provider decides the end of the turn; if it is slow, we stop waiting and use what it
    // has heard so far (or, if nothing, the offline recogniser on the audio we kept).
    clearTimeout(this.providerDeadline?.timer);
    const endedAt = Date.now();
    const run = () => this.onProviderLate(audio, endedAt);
    this.providerDeadline = { timer: setTimeout(run, this.deps.config.MEDIA_PROVIDER_TIMEOUT_MS), run };
  }

  private startLiveRecognition(): void {
    const provider = this.deps.streamingStt;
    if (!provider || this.live) return;
    const context = { language: this.agent.language, grammar: agentGrammar(this.agent) };
    let session: StreamingRecognitionSession | undefined;
    const current = () => session !== undefined && this.live === session && this.state !== 'closed';
    session = provider.start(context, {
      speechStarted: () => {
        if (current() && this.state !== 'thinking' && this.state !== 'speaking') this.state = 'user';
      },
      interim: (text) => {
        if (!current() || Date.now() < this.ignoreProviderTurnsUntil) return;
        // Early barge-in: words, not energy, interrupt the agent.
        if (this.current && text.replace(/\s+/g, ' ').trim().length >= MIN_BARGE_IN_CHARS) {
          this.interrupt('speech');
          this.state = 'user';
        }
      },
      endOfTurn: (transcript) => {
        if (!current()) return;
        if (Date.now() < this.ignoreProviderTurnsUntil) return;
        clearTimeout(this.providerDeadline?.timer);
        this.providerDeadline = undefined;
        if (this.vad.state === 'speech') this.answeredByProvider = true;
        this.utterance.clear(true);
        void this.heardLive(transcript, 0, Date.now());
      },
      failed: (error) => {
        if (session === undefined || this.live !== session) return;
        this.onProviderFailed(provider.name, error);
      },
    }, { callSid: this.callSid });
    this.live = session;
  }

  /** The streaming recogniser is gone: the energy VAD and the offline recogniser carry the call on. */
  private onProviderFailed(provider: string, error: SpeechProviderError): void {
    this.live = undefined;
    if (this.state === 'closed') return;
    const auth = error instanceof SpeechAuthError;
    const log = { callSid: this.callSid, provider, err: error.message };
    if (auth) this.logger.error(log, `${provider} speech recognition refused our credentials: this call falls back to the offline recogniser`);
    else this.logger.warn(log, `${provider} speech recognition failed mid-call: this call falls back to the offline recogniser`);
    const write = this.deps.recorder.begin(this.session);
    write.event('stt_failed', `stt_failed:${provider}:${this.socket.streamSid}`, { provider, auth, message: error.message.slice(0, 300) });
    this.commit(write, `stt-failed-${this.socket.streamSid}`);
    // A turn that was waiting on the provider is recognised offline now, not after the deadline.
    const pending = this.providerDeadline;
    if (pending) {
      clearTimeout(pending.timer);
      pending.run();
    }
  }

  /** The caller stopped talking a while ago and the provider has not ended the turn. */
  private onProviderLate(audio: Buffer, endedAt: number): void {
    this.providerDeadline = undefined;
    if (this.state === 'closed') return;
    const pending = this.live?.pendingText();
    if (this.live) {
      this.live.resetTurn();
      this.ignoreProviderTurnsUntil = Date.now() + LATE_TURN_MS;
      this.logger.warn({ callSid: this.callSid, provider: this.deps.streamingStt?.name, waitedMs: Date.now() - endedAt }, 'speech provider did not end the turn in time: using what it heard so far');
    }
    if (pending?.text) return void this.heardLive(pending, audio.length / 8, endedAt);
    this.discardSpeculation();
    void this.recognize(audio, endedAt);
  }

  /** Frames stopped arriving mid-utterance: end the turn by the clock, not by frames. */
  private onStall(): void {
    this.watchdog = undefined;
    if (this.state === 'closed') return;
    const event = this.vad.addSilence(this.deps.config.MEDIA_END_OF_TURN_MS, this.lastTimestamp + this.deps.config.MEDIA_END_OF_TURN_MS);
    if (event) this.onVad(event);
  }

  /**
   * Barge-in: `clear` first (also when our own queue is already empty — Twilio may still be
   * playing up to the lead), then drop the answer's queued audio, kill its TTS, cancel its turn
   * on the worker, and store it cut to the sentences whose marks came back.
   */
  private interrupt(cause: 'speech' | 'dtmf', event?: Extract<VadEvent, { type: 'speech-start' }>): void {
    const current = this.current;
    if (!current) return;
    this.socket.sendClear();
    this.current = undefined;
    this.generation++;
    const dropped = this.pacer.clear();
    this.settle(current, true);
    const write = this.deps.recorder.begin(this.session);
    write.event('barge_in', `barge_in:${current.answer.generation}:${++this.eventCounter}`, {
      cause,
      heardChars: current.answer.heardText().length,
      droppedFrames: dropped,
      onsetMs: event?.onsetMs,
      // Speech onset → clear, in stream time: `clear` goes out while the confirming frame is handled.
      reactionMs: event ? event.atMs - event.onsetMs : undefined,
    });
    this.commit(write, `barge-${current.answer.generation}-${this.eventCounter}`);
  }

  private async recognize(audio: Buffer, receivedAt: number): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'thinking';
    this.recognition?.abort();
    const controller = new AbortController();
    this.recognition = controller;
    const generation = this.generation;
    let result;
    try {
      result = await this.deps.stt.recognize(audio, { language: this.agent.language, grammar: agentGrammar(this.agent) }, controller.signal);
    } catch (err) {
      if (controller.signal.aborted || (this.state as StreamState) === 'closed') return;
      this.logger.warn({ callSid: this.callSid, err: (err as Error).message }, 'speech recognition failed');
      result = { text: '', confidence: 0 };
    } finally {
      if (this.recognition === controller) this.recognition = undefined;
    }
    if ((this.state as StreamState) === 'closed' || generation !== this.generation) return;
    await this.heard(result, audio.length / 8, receivedAt);
  }

  /**
   * What the caller said in one turn (from either recogniser): stored and answered, or counted
   * as a miss. `prepared` is a speculation prepared for exactly these words: its held answer is
   * adopted instead of asking the agent again.
   */
  private async heard(result: Transcript, audioMs: number, receivedAt: number, prepared?: Speculation): Promise<void> {
    if (this.state === 'closed') return this.discardSpeculation(prepared);
    const write = this.deps.recorder.begin(this.session);
    if (!this.acceptable(result)) {
      this.discardSpeculation(prepared);
      write.event(result.text ? 'low_confidence' : 'no_input', `miss:${this.session.step}:${++this.eventCounter}`, { text: result.text, confidence: result.confidence, audioMs });
      this.commit(write, `miss-${this.session.step}-${this.eventCounter}`);
      if (this.state === 'thinking') this.state = 'listening';
      return;
    }
    write.turn({ speaker: 'caller', text: result.text, confidence: result.confidence });
    const key = `caller-${this.session.seq}`;
    appendHistory(this.session, { role: 'caller', text: result.text });
    this.session.callerTurns += 1;
    try {
      if (prepared?.record) await this.adopt(prepared, receivedAt);
      else await this.respond({ kind: 'speech', text: result.text, confidence: result.confidence }, receivedAt, Date.now());
    } finally {
      // Stored once the agent's turn is queued, not before: the transcript job would otherwise be
      // ahead of it in Redis and on the worker. Its sequence number was taken above, so order holds.
      this.commit(write, key);
    }
  }

  private acceptable(result: Transcript): boolean {
    return !!result.text && result.confidence >= this.deps.config.SPEECH_CONFIDENCE_THRESHOLD;
  }

  /**
   * Per frame while the caller's speech lasts: a pause of MEDIA_SPECULATIVE_MS starts preparing
   * the turn; any voiced frame before the end of turn throws the preparation away.
   */
  private watchSpeculation(): void {
    const after = this.deps.config.MEDIA_SPECULATIVE_MS;
    if (!after || this.vad.state !== 'speech') return;
    const silence = this.vad.trailingSilenceMs;
    if (this.speculation) {
      if (silence === 0) this.discardSpeculation(); // the caller went on: the pause was not the end
      return;
    }
    if (silence >= after) this.speculate();
  }

  private speculate(): void {
    // Not while an answer is current (the agent talks over a caller it has not yielded to) or
    // once the provider has ended this utterance's turn.
    if (this.current || this.state === 'closed' || this.answeredByProvider) return;
    const spec: Speculation = { generation: this.generation, abort: new AbortController() };
    if (this.live) {
      // A streaming provider has the words already: the agent can start on them.
      const pending = this.live.pendingText();
      if (!this.acceptable(pending)) return;
      this.speculation = spec;
      this.speculations.started++;
      return this.prepare(spec, pending);
    }
    // Recognition that may be thrown away runs only when the recogniser says it will not delay
    // committed turns (the resident pool queues it behind them; the process-per-utterance one
    // never takes it). Re-checked on every frame of the pause.
    if (!(this.deps.stt.hasSpareCapacity?.() ?? true)) return;
    this.speculation = spec;
    this.speculations.started++;
    const audio = this.utterance.read();
    const context = { language: this.agent.language, grammar: agentGrammar(this.agent) };
    spec.recognition = this.deps.stt.recognize(audio, context, spec.abort.signal, { speculative: true }).then(
      (transcript) => {
        if (this.speculation === spec && spec.generation === this.generation && this.acceptable(transcript)) this.prepare(spec, transcript);
        return transcript;
      },
      () => undefined,
    );
  }

  /** Asks the agent about `transcript` with the history as it will be once the turn is stored; the answer is held. */
  private prepare(spec: Speculation, transcript: Transcript): void {
    spec.transcript = transcript;
    const record = this.createAnswer(false, Date.now(), this.generation, true);
    record.at.recognized = Date.now();
    spec.record = record;
    const draft = { ...this.session, history: [...this.session.history], agent: { ...this.session.agent } };
    appendHistory(draft, { role: 'caller', text: transcript.text });
    spec.started = this.startTurn(record, { kind: 'speech', text: transcript.text, confidence: transcript.confidence }, { history: draft.history, state: draft.agent }).then(() => {
      if (this.current !== record && this.speculation !== spec) record.turn?.cancel(); // discarded while being queued
    });
  }

  /** Offline end of turn: adopt the speculation, or use its recognition, or recognise now. */
  private async endTurn(audio: Buffer, receivedAt: number): Promise<void> {
    const spec = this.speculation;
    if (!spec || spec.generation !== this.generation || this.state === 'closed') {
      this.discardSpeculation(spec);
      return this.recognize(audio, receivedAt);
    }
    if (spec.record) return this.heard(spec.transcript!, audio.length / 8, receivedAt, spec);
    // Recognition of (nearly) this audio is running or heard nothing usable: its result stands.
    this.speculation = undefined;
    this.state = 'thinking';
    this.recognition?.abort();
    this.recognition = spec.abort;
    const result = await spec.recognition;
    if (this.recognition === spec.abort) this.recognition = undefined;
    if ((this.state as StreamState) === 'closed' || spec.generation !== this.generation) return;
    if (!result) return this.recognize(audio, receivedAt); // it failed: once more, on the whole utterance
    this.speculations.committed++;
    return this.heard(result, audio.length / 8, receivedAt);
  }

  /** A streaming provider's end of turn: the speculation is adopted if it was prepared for these very words. */
  private heardLive(transcript: Transcript, audioMs: number, receivedAt: number): Promise<void> {
    const spec = this.speculation;
    const same = (a: string, b: string) => a.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ' ').trim() === b.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ' ').trim();
    if (spec?.record && spec.generation === this.generation && same(spec.transcript!.text, transcript.text)) return this.heard(transcript, audioMs, receivedAt, spec);
    this.discardSpeculation(spec);
    return this.heard(transcript, audioMs, receivedAt);
  }

  /** The end of turn commits the held answer: it becomes the call's answer and what it has ready goes out now. */
  private async adopt(spec: Speculation, receivedAt: number): Promise<void> {
    const record = spec.record!;
    if (this.speculation === spec) this.speculation = undefined;
    this.speculations.committed++;
    if (this.current) this.interrupt('speech');
    record.receivedAt = receivedAt;
    record.speculative = true;
    if (record.decision) record.latencyMs = 0; // the answer was ready before the turn ended
    this.current = record;
    this.state = 'thinking';
    record.answer.release(++this.generation);
    await spec.started;
    if (this.current !== record) record.turn?.cancel();
  }

  /** Throws a speculation away: recognition aborted, agent turn cancelled, held audio dropped; nothing was stored. */
  private discardSpeculation(spec = this.speculation): void {
    if (!spec) return;
    if (this.speculation === spec) this.speculation = undefined;
    if (spec.record && spec.record === this.current) return; // adopted already
    this.speculations.discarded++;
    spec.abort.abort(new DOMException('speculation discarded', 'AbortError'));
    spec.record?.answer.stop();
    spec.record?.turn?.cancel();
  }

  private speakGreeting(): void {
    const record = this.newAnswer(true, Date.now());
    record.answer.pushText(this.agent.greeting);
    record.answer.endText();
  }

  private async respond(input: AgentInput, receivedAt: number, recognizedAt?: number): Promise<void> {
    if (this.state === 'closed') return;
    if (this.current) this.interrupt('speech');
    const record = this.newAnswer(false, receivedAt);
    record.at.recognized = recognizedAt;
    this.state = 'thinking';
    await this.startTurn(record, input);
    if (this.current !== record) record.turn?.cancel(); // interrupted while the turn was being queued
  }

  /** Asks the agent for `record`'s answer; its tokens feed the answer while the record is current (or held by the speculation). */
  private async startTurn(record: AnswerRecord, input: AgentInput, context?: Parameters<AgentTurnRunner['start']>[3]): Promise<void> {
    const owned = () => this.current === record || (this.speculation?.record === record && record.answer.isHeld);
    // The voice's connection opens while the agent thinks.
    if (isStreamingSynthesizer(this.deps.tts)) this.deps.tts.prepare?.();
    record.turn = await this.deps.runner.start(this.session, input, {
      token: (text) => {
        if (!owned()) return;
        record.at.firstText ??= Date.now();
        record.answer.pushText(text);
      },
      done: (result: AgentTurnJobResult) => {
        if (!owned()) return;
        record.decision = result.decision;
        record.latencyMs = Math.max(0, Date.now() - record.receivedAt);
        record.worker = result.timings;
        record.at.firstText ??= Date.now();
        record.answer.endText(result.decision.say);
      },
      failed: (reason) => {
        if (!owned()) return;
        // A held answer stores nothing, not even its failure: the end of turn asks again.
        if (this.current !== record) return this.discardSpeculation();
        this.logger.warn({ callSid: this.callSid, reason }, 'agent turn failed: apologising');
        const write = this.deps.recorder.begin(this.session);
        write.event('error', `turn:${record.turn?.step ?? this.session.step}`, { message: reason.slice(0, 300) });
        this.commit(write, `error-${record.turn?.step ?? this.session.step}`);
        record.decision = { say: APOLOGY, action: 'say', intent: 'error', state: this.session.agent };
        record.answer.pushText(` ${APOLOGY}`);
        record.answer.endText();
      },
    }, context);
  }

  private newAnswer(greeting: boolean, receivedAt: number): AnswerRecord {
    const record = this.createAnswer(greeting, receivedAt, ++this.generation, false);
    this.current = record;
    return record;
  }

  /** An answer record; a `held` one is speculative and not the call's current answer. */
  private createAnswer(greeting: boolean, receivedAt: number, generation: number, held: boolean): AnswerRecord {
    const answer = new SpokenAnswer(
      generation,
      this.deps.tts,
      { language: this.agent.language, voice: this.agent.voice },
      this.pacer,
      this.logger,
      (done) => {
        if (this.current?.answer !== done) return;
        this.current = undefined;
        this.settle(record, false);
        if (this.state === 'speaking' || this.state === 'thinking') this.state = 'listening';
      },
      (speaking) => {
        record.at.firstAudio ??= Date.now();
        if (this.current?.answer === speaking && this.state !== 'user') this.state = 'speaking';
      },
      { held },
    );
    const record: AnswerRecord = { answer, greeting, receivedAt, at: {} };
    return record;
  }

  /** Stores the answer (cut to what was heard when interrupted) and carries out its action. */
  private settle(record: AnswerRecord, interrupted: boolean): void {
    record.answer.stop();
    record.turn?.cancel();
    const text = interrupted ? record.answer.heardText() : record.answer.fullText;
    const decision = record.decision;
    const write = this.deps.recorder.begin(this.session);
    if (!record.greeting) for (const tool of decision?.tools ?? []) write.tool(tool);
    if (text || interrupted) {
      write.turn({
        speaker: 'agent',
        text,
        interrupted: interrupted || undefined,
        latencyMs: record.latencyMs,
        action: record.greeting ? 'greeting' : decision?.action,
        data: record.greeting
          ? undefined
          : { intent: decision?.intent, department: decision?.department, transferTo: decision?.transferTo, planned: interrupted ? record.answer.fullText : undefined, speculative: record.speculative },
        timings: record.greeting ? undefined : streamTurnTimings({ speechEnd: record.receivedAt, ...record.at }, record.worker),
      });
    }
    if (text) appendHistory(this.session, { role: 'agent', text });
    if (decision && !record.greeting) this.session.agent = decision.state;
    this.commit(write, `agent-${this.session.seq}`);
    if (!interrupted && decision && (decision.action === 'transfer' || decision.action === 'hangup')) {
      void this.deps.control.act(this.session, decision, this.agent);
    }
  }

  private commit(write: ReturnType<CallRecorder['begin']>, key: string): void {
    if (!write.turns.length && !write.events.length) return;
    const done = this.deps.recorder
      .commit(this.session, `m-${key}`, write)
      .then(() => this.deps.persist(this.session))
      .catch((err: Error) => this.logger.error({ callSid: this.callSid, err: err.message }, 'transcript write failed'))
      .finally(() => this.pendingWrites.delete(done));
    this.pendingWrites.add(done);
  }
}
