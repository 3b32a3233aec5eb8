import { WebSocket } from 'ws';
import type { PacerSink } from '#libs/media';

/** Above this much unsent data the socket is not keeping up: frames are dropped (and counted). */
const MAX_BUFFERED_BYTES = 256 * 1024;

/** The outbound side of one Twilio media socket: `media`, `mark` and `clear` messages for its stream. */
export class StreamSocket implements PacerSink {
  /** Frames not sent because the socket was backed up or closed. */
  dropped = 0;
  /** Frames sent. */
  sent = 0;

  constructor(
    readonly ws: WebSocket,
    readonly streamSid: string,
  ) {}

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendMedia(frame: Buffer): void {
    if (!this.open || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.dropped++;
      return;
    }
    this.sent++;
    this.ws.send(`{"event":"media","streamSid":"${this.streamSid}","media":{"payload":"${frame.toString('base64')}"}}`);
  }

  /** Audio already base64-encoded (a speech-to-speech model's μ-law, passed through untouched). */
  sendPayload(base64: string): void {
    if (!this.open || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.dropped++;
      return;
    }
    this.sent++;
    this.ws.send(`{"event":"media","streamSid":"${this.streamSid}","media":{"payload":"${base64}"}}`);
  }

  // The stream SID was checked against /^MZ[0-9a-f]{32}$/ at `start`, so it is spliced in as is.
  sendMark(name: string): void {
    if (this.open) this.ws.send(`{"event":"mark","streamSid":"${this.streamSid}","mark":{"name":${JSON.stringify(name)}}}`);
  }

  /** Empties Twilio's playback buffer at once (Twilio then echoes every pending mark). */
  sendClear(): void {
    if (this.open) this.ws.send(`{"event":"clear","streamSid":"${this.streamSid}"}`);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}
