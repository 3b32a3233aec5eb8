import { Injectable } from '@nestjs/common';
import type { AgentConfig } from '#libs/agents';
import { AppConfig } from '#libs/config';
import type { CallSession } from '#libs/sessions';
import { TwilioRestService } from '#libs/telephony';
import { CallRecorder } from '../../twilio/call-recorder.js';
import { CallControl } from '../call-control.js';
import type { StreamEngineCall } from '../stream-engine.js';
import type { StreamSocket } from '../stream-socket.js';
import { RealtimeCall } from './realtime-call.js';

/** Hooks the calls registry gives every call it creates. */
export interface EngineHooks {
  persist(session: CallSession): Promise<void>;
  released(call: StreamEngineCall, reason: string): void;
}

/**
 * The `realtime` stream engine: bridges a bound Twilio media socket to the OpenAI Realtime API.
 * Runs on the api, in the process that holds the Twilio socket: the bridge is socket-to-socket
 * work where every hop adds to what the caller hears, so it never goes through a queue.
 */
@Injectable()
export class RealtimeEngine {
  constructor(
    private readonly config: AppConfig,
    private readonly recorder: CallRecorder,
    private readonly control: CallControl,
    private readonly rest: TwilioRestService,
  ) {}

  create(socket: StreamSocket, session: CallSession, agent: AgentConfig, hooks: EngineHooks): RealtimeCall {
    return new RealtimeCall({ config: this.config, recorder: this.recorder, control: this.control, rest: this.rest, ...hooks }, socket, session, agent);
  }
}
