import { timingSafeEqual } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AgentRegistry } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { AgentTurnQueue } from '#libs/queues';
import { CallSessionStore, type CallSession } from '#libs/sessions';
import { CallRecorder } from '../twilio/call-recorder.js';
import { AgentTurnRunner } from './agent-turn.runner.js';
import { CallControl } from './call-control.js';
import { SpeechProviders } from './speech-providers.js';
import { RealtimeEngine } from './realtime/realtime-engine.js';
import { StreamCall, type StreamCallDeps } from './stream-call.js';
import type { StreamEngineCall } from './stream-engine.js';
import { StreamSocket } from './stream-socket.js';

/** A socket's `start` does not match a call that came through the signed voice webhook. */
export class StreamBindingError extends Error {
  override name = 'StreamBindingError';
}

export interface StartMessage {
  streamSid: string;
  callSid: string;
  accountSid?: string;
  token: string;
}

/** Constant-time comparison of two tokens. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The live stream calls of this process, by call SID. Binds a socket to its call (SID and token
 * from the signed voice webhook), replaces a call's socket when Twilio opens a second one, and
 * deletes the call's Redis keys when its stream ends.
 */
@Injectable()
export class StreamCallsService implements OnApplicationShutdown {
  private readonly logger = new Logger(StreamCallsService.name);
  private readonly calls = new Map<string, StreamEngineCall>();
  private readonly deps: StreamCallDeps;

  constructor(
    private readonly config: AppConfig,
    private readonly sessions: CallSessionStore,
    private readonly agents: AgentRegistry,
    private readonly turns: AgentTurnQueue,
    recorder: CallRecorder,
    runner: AgentTurnRunner,
    control: CallControl,
    providers: SpeechProviders,
    private readonly realtime: RealtimeEngine,
  ) {
    this.deps = {
      config,
      recorder,
      runner,
      control,
      stt: providers.recognizer,
      streamingStt: providers.streamingRecognizer,
      tts: providers.synthesizer,
      persist: (session) => this.persist(session),
      released: (call, reason) => this.released(call, reason),
    };
  }

  get size(): number {
    return this.calls.size;
  }

  get(callSid: string): StreamEngineCall | undefined {
    return this.calls.get(callSid);
  }

  /** Validates `start` and gives the socket its call; a previous socket of the call is closed. */
  async bind(socket: StreamSocket, start: StartMessage): Promise<StreamEngineCall> {
    if (start.accountSid && start.accountSid !== this.config.TWILIO_ACCOUNT_SID) throw new StreamBindingError('account does not match');
    const previous = this.calls.get(start.callSid);
    let session: CallSession | null = previous?.session ?? (await this.sessions.get(start.callSid));
    if (!session || session.mode !== 'stream' || !session.streamToken || !sameToken(session.streamToken, start.token)) {
      throw new StreamBindingError('no signed call with this SID and token');
    }
    if (!previous && session.seq > 0) {
      // Another process may have served this call: step past anything it numbered.
      session.step += 100;
      session.seq += 100;
    }
    const call = this.create(socket, session);
    this.calls.set(start.callSid, call);
    if (previous) {
      // Twilio opened a second socket for the call: the newest wins and keeps the session;
      // the old pipeline stops (its answer stored as interrupted) and its socket is closed.
      await previous.close('replaced');
      previous.socket.close(1000, 'replaced by a newer stream');
    }
    call.begin();
    return call;
  }

  /**
   * The one place where the engine is chosen (the agent's `streamEngine`, else STREAM_ENGINE).
   * Everything before it — signature, `start` checks, binding — is the same for both engines.
   */
  private create(socket: StreamSocket, session: CallSession): StreamEngineCall {
    const agent = this.agents.get(session.agentName);
    if ((agent.streamEngine ?? this.config.STREAM_ENGINE) === 'realtime') {
      return this.realtime.create(socket, session, agent, { persist: this.deps.persist, released: this.deps.released });
    }
    return new StreamCall(this.deps, socket, session, agent);
  }

  private async persist(session: CallSession): Promise<void> {
    // Under the call's lock, and only if the session still exists: the status callback may have ended the call.
    await this.sessions.withLock(session.callSid, async ({ session: live }) => {
      if (live) await this.sessions.save(session);
    });
  }

  private released(call: StreamEngineCall, reason: string): void {
    if (this.calls.get(call.callSid) !== call) return; // replaced: the newer call owns the keys
    this.calls.delete(call.callSid);
    // At shutdown the call goes on (another instance may take its next socket): keep its session.
    if (reason !== 'shutdown') void this.cleanup(call.callSid, call.session.step);
  }

  private async cleanup(callSid: string, steps: number): Promise<void> {
    await this.turns.forget(callSid, steps).catch(() => undefined);
    await this.sessions.deleteCall(callSid).catch((err: Error) => this.logger.warn({ callSid, err: err.message }, 'could not delete the call keys'));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.calls.values()].map((call) => call.close('shutdown')));
  }
}
