import type { IncomingMessage } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { parseTwilioFrame, twilioMessageParser, type InboundFrame } from './ws-message-parser.js';

/** A gateway's handler for every frame of its sockets; synchronous, and it catches its own errors. */
export type FrameHandler = (ws: WebSocket, frame: InboundFrame) => void;

const frameHandlers = new WeakMap<WebSocketServer, FrameHandler>();
const handlerOfClient = new WeakMap<WebSocket, FrameHandler>();

/**
 * Routes every frame of a gateway's sockets straight to `handler` (called from the gateway's
 * `afterInit`, which receives the server). Under `TwilioWsAdapter` the gateway's
 * `@SubscribeMessage` binding is then not used for those sockets; under a stock `WsAdapter` it is.
 */
export function handleFramesDirectly(server: WebSocketServer, handler: FrameHandler): void {
  frameHandlers.set(server, handler);
}

/**
 * Nest's `WsAdapter` for Twilio's media and relay sockets, with one change on the hot path.
 * The stock adapter runs every inbound message through an rxjs pipeline (fromEvent → mergeMap →
 * filter → catchError) and Nest's per-message execution context (guards, pipes, interceptors,
 * exception filters: several promises and closures per message). A Media Stream sends 50
 * messages a second per call, and at a few hundred calls that plumbing cost more CPU than the
 * bridge's own work (see docs/BENCHMARKS.md, "Realtime bridge"). A gateway that registered with
 * `handleFramesDirectly` gets each parsed frame by a plain synchronous call instead. Its
 * handlers use none of the per-message Nest features (they validate frames themselves, count and
 * log bad ones, and catch their own errors), so nothing is lost. Everything else is the stock
 * adapter's: the shared HTTP server, the path routing, `verifyClient` (the signature check),
 * `maxPayload`, connect and disconnect hooks, and the rxjs binding for any other gateway.
 */
export class TwilioWsAdapter extends WsAdapter {
  constructor(app: INestApplicationContext | object) {
    super(app, { messageParser: twilioMessageParser });
  }

  override bindClientConnect(server: WebSocketServer, callback: (client: WebSocket, req: IncomingMessage) => void): void {
    super.bindClientConnect(server, (client: WebSocket, req: IncomingMessage) => {
      const handler = frameHandlers.get(server);
      if (handler) handlerOfClient.set(client, handler);
      callback(client, req);
    });
  }

  override bindMessageHandlers(client: WebSocket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    const handler = handlerOfClient.get(client);
    if (!handler) return super.bindMessageHandlers(client, handlers, transform);
    handlerOfClient.delete(client);
    client.on('message', (data: RawData) => {
      try {
        handler(client, parseTwilioFrame(data));
      } catch (err) {
        // The handlers catch their own errors; this only keeps a bug there from reaching the process.
        this.logger.error(err);
      }
    });
  }
}
