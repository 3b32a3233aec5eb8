/** The single Nest message name every Twilio frame is delivered under (see `twilioMessageParser`). */
export const TWILIO_FRAME = 'twilio-frame';

/** Twilio's frames are small (a media frame is ~400 bytes); anything this large is not Twilio's. */
export const MAX_FRAME_BYTES = 16 * 1024;

/** One inbound frame: a JSON object with its event name, or the reason it is unusable. */
export type InboundFrame =
  | { ok: true; name: string; body: Record<string, unknown> }
  | { ok: false; reason: 'oversized' | 'json' | 'shape' };

const OVERSIZED: InboundFrame = { ok: false, reason: 'oversized' };
const NOT_JSON: InboundFrame = { ok: false, reason: 'json' };
const BAD_SHAPE: InboundFrame = { ok: false, reason: 'shape' };

/**
 * Parses one frame of a Twilio socket. Twilio's frames are JSON text, `{event: …}` (Media
 * Streams) or `{type: …}` (ConversationRelay); anything else comes back as the reason it is unusable.
 */
export function parseTwilioFrame(data: unknown): InboundFrame {
  const size = typeof data === 'string' ? data.length : Buffer.isBuffer(data) ? data.length : Number.POSITIVE_INFINITY;
  if (size > MAX_FRAME_BYTES) return OVERSIZED;
  let message: unknown;
  try {
    message = JSON.parse(String(data));
  } catch {
    return NOT_JSON;
  }
  if (!message || typeof message !== 'object' || Array.isArray(message)) return BAD_SHAPE;
  const body = message as Record<string, unknown>;
  const name = typeof body.event === 'string' ? body.event : typeof body.type === 'string' ? body.type : undefined;
  if (!name || name.length > 32) return BAD_SHAPE;
  return { ok: true, name, body };
}

/**
 * WsAdapter message parser for Twilio's sockets. Twilio's frames have no `data` field, so Nest's
 * default parser would route nothing. Every frame — malformed ones included — is delivered to one
 * handler per gateway, so each connection counts its own abuse and keeps its frames in order.
 */
export function twilioMessageParser(data: unknown): { event: string; data: InboundFrame } {
  return { event: TWILIO_FRAME, data: parseTwilioFrame(data) };
}
