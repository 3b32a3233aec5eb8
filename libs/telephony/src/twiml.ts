import twilio from 'twilio';

const { VoiceResponse } = twilio.twiml;

/** How the agent speaks (the agent's configured voice and language). */
export interface Voice {
  voice: string;
  language: string;
}

/** Twilio refuses <Say> text beyond 4,096 characters; answers are much shorter than that. */
const MAX_SAY = 1500;

function clip(text: string): string {
  const clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ' ').trim();
  return clean.length > MAX_SAY ? `${clean.slice(0, MAX_SAY)}…` : clean;
}

function say(node: { say: (attrs: object, text: string) => unknown }, voice: Voice, text: string): void {
  if (text.trim()) node.say({ voice: voice.voice as never, language: voice.language as never }, clip(text));
}

/**
 * TwiML documents of the speech flow. Text always goes through twilio-node's XML builder, so
 * model output can never inject markup. Every document ends in a verb that keeps the call
 * going (Redirect) or ends it on purpose (Hangup, Dial): a call never falls off the end.
 */
export const Twiml = {
  /** Speak (optionally) and listen for the caller's next turn. */
  listen(voice: Voice, text: string, actionUrl: string, hints?: string): string {
    const response = new VoiceResponse();
    const gather = response.gather({
      input: ['speech', 'dtmf'],
      action: actionUrl,
      method: 'POST',
      speechTimeout: 'auto',
      actionOnEmptyResult: true,
      numDigits: 1,
      timeout: 6,
      language: voice.language as never,
      ...(hints ? { hints } : {}),
    });
    say(gather, voice, text);
    // Reached only if Gather ends without calling its action: ask again through the same step.
    response.redirect({ method: 'POST' }, actionUrl);
    return response.toString();
  },

  /** Keep the caller company while the answer is computed, then ask again. */
  hold(voice: Voice, text: string | undefined, waitUrl: string): string {
    const response = new VoiceResponse();
    if (text) say(response, voice, text);
    else response.pause({ length: 1 });
    response.redirect({ method: 'POST' }, waitUrl);
    return response.toString();
  },

  transfer(voice: Voice, text: string, number: string, actionUrl?: string): string {
    const response = new VoiceResponse();
    say(response, voice, text);
    const dial = response.dial({ timeout: 30, ...(actionUrl ? { action: actionUrl, method: 'POST' } : {}) });
    dial.number(number);
    // Without an action, the call continues here once the dialled party hangs up.
    if (!actionUrl) response.hangup();
    return response.toString();
  },

  hangup(voice: Voice, text: string): string {
    const response = new VoiceResponse();
    say(response, voice, text);
    response.hangup();
    return response.toString();
  },
} as const;
