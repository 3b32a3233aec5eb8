import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import type { Purpose } from './playback.js';
import type { ServerEvent } from './realtime-connection.js';
import type { FunctionCall } from './tool-calls.js';

/** Largest audio delta forwarded (base64 characters); a normal delta is a few KB. */
const MAX_DELTA_CHARS = 256 * 1024;
/** A delta is spliced into Twilio's JSON as it is, so it must be plain base64 (no quote, no backslash). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What a call does with the model's events, each one validated and reduced to what it needs. */
export interface ModelEventHandler {
  /** μ-law audio of an assistant item, base64 as the model sent it (`bytes` once decoded). */
  onAudioDelta(itemId: string, responseId: string | undefined, base64: string, bytes: number): void;
  onAudioDone(itemId: string | undefined): void;
  /** The model's transcript of its own speech: a piece to append, or (`whole`) the final text. */
  onAgentTranscript(itemId: string | undefined, text: string, whole: boolean): void;
  onSpeechStarted(): void;
  onSpeechStopped(): void;
  /** The caller's turn was committed as a conversation item (its transcription follows). */
  onCallerCommitted(itemId: string): void;
  onCallerTranscript(itemId: string, transcript: string): void;
  onCallerTranscriptionFailed(itemId: string): void;
  onResponseCreated(id: string, purpose: Purpose): void;
  onItemAdded(itemId: string, responseId: string | undefined, type: unknown): void;
  onFunctionCall(responseId: string | undefined, call: FunctionCall): void;
  /** `failure`: the provider's error code and message when `status` is `failed`. */
  onResponseDone(id: string | undefined, status: string | undefined, failure: string | undefined): void;
  onModelError(code: string, message: string): void;
  onMalformed(reason: string): void;
}

type Body = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Body | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Body) : undefined);

/**
 * Routes one server event of the OpenAI Realtime API (GA protocol) to the handler, checking the
 * fields it uses: a model message that lacks them is reported as malformed, never thrown on.
 * Events the bridge has no use for (session.*, rate_limits.updated, content parts …) are dropped.
 */
export function dispatchModelEvent(event: ServerEvent, on: ModelEventHandler): void {
  // Typed against the SDK's GA event names, so a misspelt or beta-era name fails to compile.
  const type = event.type as RealtimeServerEvent['type'];
  switch (type) {
    case 'response.output_audio.delta':
      return audioDelta(event, on);
    case 'input_audio_buffer.speech_started':
      return on.onSpeechStarted();
    case 'input_audio_buffer.speech_stopped':
      return on.onSpeechStopped();
    case 'input_audio_buffer.committed': {
      const itemId = str(event.item_id);
      if (itemId) on.onCallerCommitted(itemId);
      return;
    }
    case 'conversation.item.input_audio_transcription.completed': {
      const itemId = str(event.item_id);
      const transcript = str(event.transcript);
      if (!itemId || transcript === undefined) return on.onMalformed('bad transcription event');
      return on.onCallerTranscript(itemId, transcript);
    }
    case 'conversation.item.input_audio_transcription.failed': {
      const itemId = str(event.item_id);
      if (itemId) on.onCallerTranscriptionFailed(itemId);
      return;
    }
    case 'response.created': {
      const response = obj(event.response);
      const id = str(response?.id);
      if (!id) return on.onMalformed('response without id');
      const purpose = str(obj(response?.metadata)?.purpose);
      return on.onResponseCreated(id, purpose === 'greeting' || purpose === 'action' ? purpose : 'reply');
    }
    case 'response.output_item.added': {
      const item = obj(event.item);
      const itemId = str(item?.id);
      if (!itemId) return on.onMalformed('output item without id');
      return on.onItemAdded(itemId, str(event.response_id), item?.type);
    }
    case 'response.output_audio_transcript.delta': {
      const delta = str(event.delta);
      if (delta) on.onAgentTranscript(str(event.item_id), delta, false);
      return;
    }
    case 'response.output_audio_transcript.done': {
      const transcript = str(event.transcript);
      if (transcript !== undefined) on.onAgentTranscript(str(event.item_id), transcript, true);
      return;
    }
    case 'response.output_audio.done':
      return on.onAudioDone(str(event.item_id));
    case 'response.output_item.done':
      return functionCallDone(event, on);
    case 'response.done': {
      const response = obj(event.response);
      const error = obj(obj(response?.status_details)?.error);
      return on.onResponseDone(str(response?.id), str(response?.status), `${str(error?.code) ?? ''} ${str(error?.message) ?? ''}`);
    }
    case 'error': {
      const error = obj(event.error);
      return on.onModelError(str(error?.code) ?? '', (str(error?.message) ?? '').slice(0, 300));
    }
    default:
      return;
  }
}

function audioDelta(event: ServerEvent, on: ModelEventHandler): void {
  const itemId = str(event.item_id);
  const delta = event.delta;
  if (!itemId || typeof delta !== 'string' || delta.length > MAX_DELTA_CHARS || delta.length % 4 !== 0 || !BASE64.test(delta)) {
    return on.onMalformed('bad audio delta');
  }
  const bytes = (delta.length / 4) * 3 - (delta.endsWith('==') ? 2 : delta.endsWith('=') ? 1 : 0);
  on.onAudioDelta(itemId, str(event.response_id), delta, bytes);
}

/** A function call is complete (other finished items need nothing: their audio told us everything). */
function functionCallDone(event: ServerEvent, on: ModelEventHandler): void {
  const item = obj(event.item);
  if (item?.type !== 'function_call') return;
  const itemId = str(item.id);
  const callId = str(item.call_id);
  const name = str(item.name);
  if (!itemId || !callId || !name) return on.onMalformed('function call without id or name');
  on.onFunctionCall(str(event.response_id), { itemId, callId, name, arguments: str(item.arguments) ?? '' });
}
