import type { CallSession } from '#libs/sessions';
import type { StreamSocket } from './stream-socket.js';

export type StreamCloseReason = 'stop' | 'closed' | 'replaced' | 'shutdown';

/**
 * What the media gateway drives for one call, whichever engine runs behind the socket
 * (`pipeline`: VAD → STT → agent → TTS; `realtime`: a speech-to-speech model). Twilio's side —
 * the signed upgrade, the `start` checks, message validation — is the gateway's and the same for both.
 */
export interface StreamEngineCall {
  readonly callSid: string;
  readonly session: CallSession;
  readonly socket: StreamSocket;
  /** The socket is bound to the call: greet on the call's first stream. */
  begin(): void;
  /** One inbound frame of μ-law audio; `frame` may be a reused scratch buffer (copy what you keep). */
  onAudio(frame: Buffer, timestampMs: number | undefined): void;
  /**
   * Optional: the same frame still base64-encoded, as Twilio sent it (validated). An engine that
   * forwards μ-law untouched (the realtime bridge) takes this and skips a decode and re-encode.
   */
  onAudioPayload?(base64: string, timestampMs: number | undefined): void;
  /** Twilio echoed a mark: the audio before it has played (or was cleared). */
  onMark(name: string): void;
  onDtmf(digit: string): void;
  /** Releases everything of the call; idempotent (stop, close and replacement race). */
  close(reason: StreamCloseReason): Promise<void>;
}
