import { randomBytes } from 'node:crypto';
import { signTwilioRequest } from '#libs/telephony';
import type { SimulatorOptions } from './options.js';
import { TwilioRelayClient } from './relay-client.js';

export interface RelayCallOptions extends SimulatorOptions {
  /** Interrupt each answer after its first words, as Twilio does when the caller talks over it. */
  bargeIn: boolean;
}

/**
 * Plays Twilio's side of ConversationRelay with text: the signed voice webhook, the signed
 * socket, `setup`, one `prompt` per utterance (or an `interrupt` mid-answer with `bargeIn`), and
 * the `<Connect action>` callback when the server ends the session.
 */
export async function runRelayCall(options: RelayCallOptions): Promise<{ callSid: string }> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const params = {
    CallSid: callSid, AccountSid: options.accountSid, From: options.from ?? '+15005550006', To: options.to ?? '+15005550001',
    CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01',
  };
  const base = options.publicBaseUrl.replace(/\/+$/, '');
  const post = async (path: string, extra: Record<string, string> = {}) => {
    const body = { ...params, ...extra };
    const res = await fetch(options.apiUrl.replace(/\/+$/, '') + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(options.authToken, base + path, body) },
      body: new URLSearchParams(body).toString(),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return text;
  };

  const twiml = await post('/twilio/voice?mode=relay');
  const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(twiml)?.[1];
  const greeting = /welcomeGreeting="([^"]*)"/.exec(twiml)?.[1];
  if (!token) throw new Error(`no ConversationRelay in the answer: ${twiml.slice(0, 200)}`);
  print(`☎  ${callSid}: <Connect><ConversationRelay> answered`);
  if (greeting) print(`🤖 agent (welcome greeting): ${greeting.replace(/&apos;/g, "'").replace(/&amp;/g, '&')}`);

  const relay = new TwilioRelayClient({ apiUrl: options.apiUrl, publicBaseUrl: base, authToken: options.authToken });
  await relay.connect();
  relay.setup(callSid, options.accountSid, token);
  let from = 0;
  try {
    for (const utterance of options.utterances) {
      print(`🗣  caller: ${utterance}`);
      const t0 = performance.now();
      relay.prompt(utterance);
      const { text, end } = await relay.answer(from);
      from = end;
      print(`🤖 agent: ${text.trim()}  [${Math.round(performance.now() - t0)} ms]`);
      if (options.bargeIn) {
        const heard = text.trim().split(/\s+/).slice(0, 4).join(' ');
        relay.send({ type: 'interrupt', utteranceUntilInterrupt: heard, durationUntilInterruptMs: 900 });
        print(`   ⟂ caller interrupted after "${heard}"`);
      }
      await new Promise((r) => setTimeout(r, 150)); // an `end` follows the answer's last token
      const ended = relay.received.find((m) => m.type === 'end');
      if (ended) {
        print(`   session ended by the agent: ${ended.handoffData}`);
        const next = await post('/twilio/relay/action', { SessionStatus: 'ended', HandoffData: ended.handoffData ?? '' });
        print(`   <Connect action> answered: ${next.replace(/<\?xml[^>]*>/, '')}`);
        break;
      }
    }
  } finally {
    relay.close();
  }
  return { callSid };
}
