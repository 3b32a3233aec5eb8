import { Logger } from '@nestjs/common';
import {
  ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit,
} from '@nestjs/websockets';
import type { WebSocket, WebSocketServer } from 'ws';
import { AppConfig } from '#libs/config';
import { MetricsService } from '#libs/metrics';
import { CallSessionStore, type CallSession } from '#libs/sessions';
import { CallRecorder } from '../twilio/call-recorder.js';
import { AgentTurnRunner } from './agent-turn.runner.js';
import { RelaySession } from './relay-session.js';
import { requireTwilioSignature } from './signed-upgrade.js';
import { sameToken } from './stream-calls.service.js';
import { MAX_FRAME_BYTES, TWILIO_FRAME, type InboundFrame } from './ws-message-parser.js';
import { handleFramesDirectly } from './twilio-ws.adapter.js';
import { rejectMessage } from './invalid-messages.js';

const CALL_SID = /^CA[0-9a-f]{32}$/i;

/** Messages kept while `setup` is being checked (Twilio may send a prompt right behind it). */
const MAX_BACKLOG = 20;

interface Connection {
  relay?: RelaySession;
  binding: boolean;
  backlog: [string, Body][];
  invalid: number;
  setupTimer?: NodeJS.Timeout;
}

type Body = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** WS /twilio/relay: ConversationRelay. Signed upgrade; `setup` must match a signed relay call. */
// No permessage-deflate (ws's default, said here): frames are small, and compressing would cost a
// pass over every frame on both ends.
@WebSocketGateway({ path: '/twilio/relay', maxPayload: MAX_FRAME_BYTES * 4, perMessageDeflate: false })
export class RelayGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(RelayGateway.name);
  private readonly connections = new WeakMap<WebSocket, Connection>();

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly sessions: CallSessionStore,
    private readonly recorder: CallRecorder,
    private readonly runner: AgentTurnRunner,
  ) {}

  afterInit(server: WebSocketServer): void {
    requireTwilioSignature(server, this.config, () => this.metrics.countSignatureRejection('/twilio/relay'));
    handleFramesDirectly(server, (ws, frame) => this.onFrame(ws, frame));
  }

  handleConnection(ws: WebSocket): void {
    const connection: Connection = { binding: false, invalid: 0, backlog: [] };
    connection.setupTimer = setTimeout(() => connection.relay || ws.close(1008, 'no setup'), 10_000).unref();
    this.connections.set(ws, connection);
  }

  handleDisconnect(ws: WebSocket): void {
    const connection = this.connections.get(ws);
    if (!connection) return;
    this.connections.delete(ws);
    clearTimeout(connection.setupTimer);
    connection.relay?.close();
  }

  /** Every frame of the socket (directly under TwilioWsAdapter; through Nest's binding under a stock WsAdapter). */
  @SubscribeMessage(TWILIO_FRAME)
  onFrame(@ConnectedSocket() ws: WebSocket, @MessageBody() frame: InboundFrame): void {
    const connection = this.connections.get(ws);
    if (!connection) return;
    this.metrics.countSocketMessage('relay');
    try {
      if (!frame.ok) return this.reject(ws, connection, frame.reason);
      this.dispatch(ws, connection, frame.name, frame.body);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'relay message handling failed');
      this.reject(ws, connection, 'handler');
    }
  }

  private dispatch(ws: WebSocket, connection: Connection, name: string, body: Body): void {
    if (name === 'setup') return void this.setup(ws, connection, body);
    const relay = connection.relay;
    if (!relay && connection.binding && connection.backlog.length < MAX_BACKLOG) return void connection.backlog.push([name, body]);
    if (!relay) return this.reject(ws, connection, 'before setup');
    switch (name) {
      case 'prompt': {
        const text = str(body.voicePrompt)?.trim().slice(0, 2000);
        if (text === undefined) return this.reject(ws, connection, 'bad prompt');
        if (body.last === false || !text) return; // partial prompts (partialPrompts=true) and empty results
        return relay.onPrompt(text);
      }
      case 'interrupt': {
        const heard = str(body.utteranceUntilInterrupt) ?? '';
        const ms = Number(body.durationUntilInterruptMs);
        return relay.onInterrupt(heard.slice(0, 4000), Number.isFinite(ms) ? ms : undefined);
      }
      case 'dtmf': {
        const digit = str(body.digit);
        if (!digit || !/^[0-9*#]$/.test(digit)) return this.reject(ws, connection, 'bad dtmf');
        return relay.onDtmf(digit);
      }
      case 'error':
        this.logger.warn({ callSid: relay.session.callSid, description: str(body.description)?.slice(0, 200) }, 'ConversationRelay reported an error');
        return relay.onError(str(body.description) ?? 'unknown');
      case 'info':
        return;
      default:
        return this.reject(ws, connection, 'unknown type');
    }
  }

  private async setup(ws: WebSocket, connection: Connection, body: Body): Promise<void> {
    if (connection.relay || connection.binding) return this.reject(ws, connection, 'second setup');
    const callSid = str(body.callSid);
    const params = body.customParameters && typeof body.customParameters === 'object' ? (body.customParameters as Body) : {};
    const token = str(params.token);
    if (!callSid || !CALL_SID.test(callSid) || !token || token.length > 200) return ws.close(1008, 'invalid setup');
    connection.binding = true;
    try {
      const session = await this.sessions.get(callSid);
      if (!session || session.mode !== 'relay' || !session.streamToken || !sameToken(session.streamToken, token)) {
        this.logger.warn({ callSid }, 'relay setup does not match a signed call: closing');
        return ws.close(1008, 'unknown call');
      }
      connection.relay = new RelaySession(ws, session, this.recorder, this.runner, (s) => this.persist(s));
      clearTimeout(connection.setupTimer);
      connection.binding = false;
      for (const [name, queued] of connection.backlog.splice(0)) this.dispatch(ws, connection, name, queued);
    } catch (err) {
      this.logger.warn({ callSid, err: (err as Error).message }, 'relay setup failed');
      ws.close(1011, 'unavailable');
    } finally {
      connection.binding = false;
      connection.backlog.length = 0;
    }
  }

  private async persist(session: CallSession): Promise<void> {
    await this.sessions.withLock(session.callSid, async ({ session: live }) => {
      if (live) await this.sessions.save(session);
    });
  }

  private reject(ws: WebSocket, connection: Connection, reason: string): void {
    this.metrics.countInvalidSocketMessage('relay');
    rejectMessage(ws, connection, { logger: this.logger, limit: this.config.MEDIA_MAX_INVALID_MESSAGES, callSid: connection.relay?.session.callSid, kind: 'relay' }, reason);
  }
}
