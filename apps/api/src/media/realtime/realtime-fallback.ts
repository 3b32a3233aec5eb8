import type { AgentConfig } from '#libs/agents';
import { Twiml } from '#libs/telephony';
import type { RealtimeFailure } from './realtime-connection.js';

const APOLOGY_TRANSFER = "I'm sorry, I'm having trouble on my side. Let me put you through to a colleague.";
const APOLOGY_END = "I'm sorry, I'm having trouble on my side right now. Please call us back in a few minutes. Goodbye.";
const TIME_LIMIT = "We've reached the time limit for this call. Thank you for calling, goodbye.";

/** New TwiML for a call the bridge gives up on: what Twilio says, then does; and how it is stored. */
export interface CallRedirect {
  twiml: string;
  said: string;
  action: 'transfer' | 'hangup';
  data: Record<string, unknown>;
}

const voiceOf = (agent: AgentConfig) => ({ voice: agent.voice, language: agent.language });

/** The model cannot serve the call: a short apology, then a transfer when a number is configured, else a goodbye. */
export function apologyRedirect(agent: AgentConfig, failure: RealtimeFailure, transferTo: string | undefined): CallRedirect {
  if (transferTo) {
    return { twiml: Twiml.transfer(voiceOf(agent), APOLOGY_TRANSFER, transferTo), said: APOLOGY_TRANSFER, action: 'transfer', data: { reason: failure.kind, transferTo } };
  }
  return { twiml: Twiml.hangup(voiceOf(agent), APOLOGY_END), said: APOLOGY_END, action: 'hangup', data: { reason: failure.kind } };
}

/** The call reached OPENAI_REALTIME_MAX_CALL_SECONDS: a polite goodbye and a hang-up. */
export function timeLimitRedirect(agent: AgentConfig): CallRedirect {
  return { twiml: Twiml.hangup(voiceOf(agent), TIME_LIMIT), said: TIME_LIMIT, action: 'hangup', data: { reason: 'max_duration' } };
}
