import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import {
  ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit,
} from '@nestjs/websockets';
import type { WebSocket, WebSocketServer } from 'ws';
import { AppConfig } from '#libs/config';
import { MetricsService } from '#libs/metrics';
import { FRAME_BYTES } from '#libs/media';
import { requireTwilioSignature } from './signed-upgrade.js';
import type { StreamEngineCall } from './stream-engine.js';
import { StreamBindingError, StreamCallsService } from './stream-calls.service.js';
import { StreamSocket } from './stream-socket.js';
import { MAX_FRAME_BYTES, TWILIO_FRAME, type InboundFrame } from './ws-message-parser.js';
import { invalidBeyondLogged, rejectMessage } from './invalid-messages.js';
import { handleFramesDirectly } from './twilio-ws.adapter.js';

const CALL_SID = /^CA[0-9a-f]{32}$/i;
const STREAM_SID = /^MZ[0-9a-f]{32}$/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Base64 of at most 1 s of audio per media message; Twilio sends 20 ms. */
const MAX_PAYLOAD_CHARS = Math.ceil((50 * FRAME_BYTES) / 3) * 4;
/**
 * Decoded audio of one message, reused for every message of the process: handlers are
 * synchronous and copy what they keep, so no frame allocates (or pins a pooled slab).
 */
const scratch = Buffer.allocUnsafeSlow((MAX_PAYLOAD_CHARS / 4) * 3);
/** A socket that has not sent a valid `start` by then is not Twilio's. */
const START_TIMEOUT_MS = 10_000;
/** Malformed messages logged per socket; the rest are only counted. */

interface Connection {
  call?: StreamEngineCall;
  binding: boolean;
  invalid: number;
  startTimer?: NodeJS.Timeout;
}

type Body = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Body | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Body) : undefined);

/**
 * WS /twilio/media: Twilio Media Streams (`<Connect><Stream>`). The upgrade must be signed; the
 * `start` message must match a call from the signed voice webhook. Bad messages are counted and
 * ignored, and the socket is closed after MEDIA_MAX_INVALID_MESSAGES: one call's fault never
 * touches another call.
 */
// No permessage-deflate (ws's default, said here): frames are small, and compressing would cost a
// pass over every frame on both ends.
@WebSocketGateway({ path: '/twilio/media', maxPayload: MAX_FRAME_BYTES * 4, perMessageDeflate: false })
export class MediaGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(MediaGateway.name);
  private readonly connections = new WeakMap<WebSocket, Connection>();

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly calls: StreamCallsService,
  ) {}

  afterInit(server: WebSocketServer): void {
    requireTwilioSignature(server, this.config, () => this.metrics.countSignatureRejection('/twilio/media'));
    handleFramesDirectly(server, (ws, frame) => this.onFrame(ws, frame));
  }

  handleConnection(ws: WebSocket, _req: IncomingMessage): void {
    const connection: Connection = { binding: false, invalid: 0 };
    connection.startTimer = setTimeout(() => {
      if (!connection.call) ws.close(1008, 'no start');
    }, START_TIMEOUT_MS).unref();
    this.connections.set(ws, connection);
  }

  handleDisconnect(ws: WebSocket): void {
    const connection = this.connections.get(ws);
    if (!connection) return;
    this.connections.delete(ws);
    clearTimeout(connection.startTimer);
    if (invalidBeyondLogged(connection)) this.logger.warn({ callSid: connection.call?.callSid, invalid: connection.invalid }, 'media socket sent invalid messages');
    void connection.call?.close('closed');
  }

  /** Every frame of the socket (directly under TwilioWsAdapter; through Nest's binding under a stock WsAdapter). */
  @SubscribeMessage(TWILIO_FRAME)
  onFrame(@ConnectedSocket() ws: WebSocket, @MessageBody() frame: InboundFrame): void {
    const connection = this.connections.get(ws);
    if (!connection) return;
    this.metrics.countSocketMessage('media');
    try {
      if (!frame.ok) return this.reject(ws, connection, frame.reason);
      this.dispatch(ws, connection, frame.name, frame.body);
    } catch (err) {
      // Never let one socket's message take the process (or other calls) down.
      this.logger.error({ callSid: connection.call?.callSid, err: (err as Error).message }, 'media message handling failed');
      this.reject(ws, connection, 'handler');
    }
  }

  private dispatch(ws: WebSocket, connection: Connection, name: string, body: Body): void {
    const call = connection.call;
    if (name === 'media') {
      if (connection.binding && !call) return; // frames right behind `start`, while it is checked
      const media = obj(body.media);
      const payload = str(media?.payload);
      if (!call || !media || payload === undefined) return this.reject(ws, connection, 'media before start');
      if (str(body.streamSid) !== call.socket.streamSid) return this.reject(ws, connection, 'wrong streamSid');
      if (payload.length > MAX_PAYLOAD_CHARS || payload.length % 4 !== 0 || !BASE64.test(payload)) return this.reject(ws, connection, 'bad payload');
      if (media.track !== undefined && media.track !== 'inbound') return; // only the caller's audio is heard
      const timestamp = Number(media.timestamp);
      const at = Number.isFinite(timestamp) && timestamp >= 0 ? timestamp : undefined;
      if (call.onAudioPayload) return call.onAudioPayload(payload, at);
      const bytes = scratch.write(payload, 'base64');
      call.onAudio(scratch.subarray(0, bytes), at);
      return;
    }
    switch (name) {
      case 'connected':
        return;
      case 'start':
        return void this.start(ws, connection, body);
      case 'mark': {
        const mark = str(obj(body.mark)?.name);
        if (!call || mark === undefined || str(body.streamSid) !== call.socket.streamSid) return this.reject(ws, connection, 'bad mark');
        return call.onMark(mark);
      }
      case 'dtmf': {
        const digit = str(obj(body.dtmf)?.digit);
        if (!call || !digit || !/^[0-9*#]$/.test(digit) || str(body.streamSid) !== call.socket.streamSid) return this.reject(ws, connection, 'bad dtmf');
        return call.onDtmf(digit);
      }
      case 'stop':
        if (!call || str(body.streamSid) !== call.socket.streamSid) return this.reject(ws, connection, 'bad stop');
        connection.call = undefined;
        void call.close('stop').finally(() => ws.close(1000, 'stopped'));
        return;
      default:
        return this.reject(ws, connection, `unknown event`);
    }
  }

  private async start(ws: WebSocket, connection: Connection, body: Body): Promise<void> {
    if (connection.call || connection.binding) return this.reject(ws, connection, 'second start');
    const start = obj(body.start);
    const streamSid = str(start?.streamSid) ?? str(body.streamSid);
    const callSid = str(start?.callSid);
    const token = str(obj(start?.customParameters)?.token);
    if (!streamSid || !STREAM_SID.test(streamSid) || !callSid || !CALL_SID.test(callSid) || !token || token.length > 200) {
      this.logger.warn({ callSid: callSid?.slice(0, 34) }, 'media stream start is malformed: closing');
      return ws.close(1008, 'invalid start');
    }
    connection.binding = true;
    try {
      const call = await this.calls.bind(new StreamSocket(ws, streamSid), { streamSid, callSid, token, accountSid: str(start?.accountSid) });
      if (ws.readyState !== ws.OPEN) return void call.close('closed'); // the socket went away while we checked
      connection.call = call;
      clearTimeout(connection.startTimer);
    } catch (err) {
      const expected = err instanceof StreamBindingError;
      this.logger.warn({ callSid, err: (err as Error).message }, expected ? 'media stream does not match a signed call: closing' : 'media stream could not be bound');
      ws.close(expected ? 1008 : 1011, expected ? 'unknown call' : 'unavailable');
    } finally {
      connection.binding = false;
    }
  }

  private reject(ws: WebSocket, connection: Connection, reason: string): void {
    this.metrics.countInvalidSocketMessage('media');
    rejectMessage(ws, connection, { logger: this.logger, limit: this.config.MEDIA_MAX_INVALID_MESSAGES, callSid: connection.call?.callSid, kind: 'media' }, reason);
  }
}
