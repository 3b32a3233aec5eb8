import type { Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';

/** How many ignored messages of one socket are logged one by one; the rest only in the count. */
const LOGGED_PER_SOCKET = 3;

/**
 * Counts a socket's malformed or unexpected messages: each is ignored (the first few logged),
 * and the socket is closed at `limit`, so one misbehaving peer never costs more than that.
 */
export function rejectMessage(
  ws: WebSocket,
  connection: { invalid: number },
  context: { logger: Logger; limit: number; callSid?: string; kind: 'media' | 'relay' },
  reason: string,
): void {
  connection.invalid++;
  const { logger, limit, callSid, kind } = context;
  if (connection.invalid <= LOGGED_PER_SOCKET) logger.warn({ callSid, reason }, `ignored invalid ${kind} message`);
  if (connection.invalid === limit) {
    logger.warn({ callSid, invalid: connection.invalid }, `closing abusive ${kind} socket`);
    ws.close(1008, 'too many invalid messages');
  }
}

/** Whether a socket sent more invalid messages than were logged one by one. */
export const invalidBeyondLogged = (connection: { invalid: number }): boolean => connection.invalid > LOGGED_PER_SOCKET;
