import twilio from 'twilio';
import type { AgentConfig } from '#libs/agents';

const { VoiceResponse } = twilio.twiml;

/** Same origin as PUBLIC_BASE_URL, on the WebSocket scheme. */
export function wsUrl(publicBaseUrl: string, path: string): string {
  return publicBaseUrl.replace(/^http/, 'ws') + path;
}

/**
 * `<Connect><Stream>`: a bidirectional stream. A `<Stream>` URL cannot carry a query string, so
 * the per-call token travels as a `<Parameter>` and comes back in the `start` message.
 */
export function streamTwiml(publicBaseUrl: string, token: string): string {
  const response = new VoiceResponse();
  const stream = response.connect().stream({ url: wsUrl(publicBaseUrl, '/twilio/media') });
  stream.parameter({ name: 'token', value: token });
  return response.toString();
}

/** Twilio voice names ("Polly.Joanna", "Google.en-US-…") split into ConversationRelay's provider + voice. */
function relayVoice(voice: string): { ttsProvider?: string; voice?: string } {
  const [prefix, name] = voice.split('.', 2);
  if (name && prefix === 'Polly') return { ttsProvider: 'Amazon', voice: name };
  if (name && prefix === 'Google') return { ttsProvider: 'Google', voice: name };
  return {};
}

/**
 * `<Connect action><ConversationRelay>`: Twilio recognises and speaks, the socket carries text.
 * The action URL receives the end of the session (our `end` handoff, or a dropped socket).
 */
export function relayTwiml(publicBaseUrl: string, agent: AgentConfig, token: string, greeting?: string): string {
  const response = new VoiceResponse();
  const connect = response.connect({ action: `${publicBaseUrl}/twilio/relay/action`, method: 'POST' });
  const relay = connect.conversationRelay({
    url: wsUrl(publicBaseUrl, '/twilio/relay'),
    ...(greeting ? { welcomeGreeting: greeting, welcomeGreetingInterruptible: 'any' } : {}),
    language: agent.language,
    ...relayVoice(agent.voice),
    interruptible: 'any',
    dtmfDetection: true,
  });
  relay.parameter({ name: 'token', value: token });
  return response.toString();
}
