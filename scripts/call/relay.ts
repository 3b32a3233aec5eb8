import { inputsOf, type CallResult, type SimulatorOptions } from './options.js';
import { TwilioRelayClient } from './relay-client.js';
import { TwilioCallSide } from './twilio-side.js';
import { parseTwiml } from './twiml-parser.js';

export interface RelayCallOptions extends SimulatorOptions {
  /** Interrupt each answer after its first words, as Twilio does when the caller talks over it. */
  bargeIn: boolean;
  status?: 'busy' | 'no-answer' | 'failed';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Plays Twilio's side of ConversationRelay with text: the signed voice webhook, the signed
 * socket, `setup`, one `prompt` (or `dtmf`) per input (or an `interrupt` mid-answer with
 * `bargeIn`), the `<Connect action>` callback when the server ends the session, the TwiML it
 * answers (Dial, Hangup) and the status callbacks.
 */
export async function runRelayCall(options: RelayCallOptions): Promise<CallResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const call = new TwilioCallSide(options);
  const { callSid } = call;
  const connected = await call.connect('relay', options.status, print);
  if (!connected) return { callSid, outcome: 'not-answered' };
  const { twiml, token } = connected;
  const greeting = /welcomeGreeting="([^"]*)"/.exec(twiml)?.[1];
  await call.answered();
  if (greeting) print(`🤖 agent (welcome greeting): ${greeting.replace(/&apos;/g, "'").replace(/&amp;/g, '&')}`);

  const relay = new TwilioRelayClient({ apiUrl: options.apiUrl, publicBaseUrl: options.publicBaseUrl.replace(/\/+$/, ''), authToken: options.authToken });
  await relay.connect();
  relay.setup(callSid, options.accountSid, token);
  let from = 0;
  let result: CallResult = { callSid, outcome: 'caller-hung-up' };
  try {
    for (const input of inputsOf(options)) {
      if (input.kind === 'silence') {
        // ConversationRelay sends nothing while the caller is silent.
        print('🤐 caller: (silence)');
        await sleep(3000);
        continue;
      }
      const t0 = performance.now();
      if (input.kind === 'dtmf') {
        print(`☎  caller pressed ${input.digits}`);
        for (const digit of input.digits) relay.send({ type: 'dtmf', digit });
      } else {
        print(`🗣  caller: ${input.text}`);
        relay.prompt(input.text);
      }
      const { text, end, firstTokenAt } = await relay.answer(from);
      from = end;
      const total = Math.round(performance.now() - t0);
      const first = Math.round(firstTokenAt - t0);
      if (options.bargeIn) {
        const heard = text.trim().split(/\s+/).slice(0, 4).join(' ');
        relay.send({ type: 'interrupt', utteranceUntilInterrupt: heard, durationUntilInterruptMs: 900 });
        print(`🤖 agent: ${heard} ⟂ (interrupted; the caller heard only this of "${text.trim()}")`);
      } else {
        print(`🤖 agent: ${text.trim()}`);
      }
      print(`   ⏱ caller waited ${first} ms for the first words (whole answer ${total} ms)`);
      await sleep(150); // an `end` follows the answer's last token
      const ended = relay.received.find((m) => m.type === 'end');
      if (ended) {
        const next = await call.post('/twilio/relay/action', { SessionStatus: 'ended', HandoffData: ended.handoffData ?? '' });
        result = followActionTwiml(callSid, next.body, print);
        break;
      }
    }
    if (result.outcome === 'caller-hung-up') print('📴 caller hung up');
  } finally {
    relay.close();
  }
  await call.end('completed');
  return result;
}

/** What Twilio does with the `<Connect action>` answer: dial, hang up. */
function followActionTwiml(callSid: string, twiml: string, print: (line: string) => void): CallResult {
  for (const verb of parseTwiml(twiml).children) {
    if (verb.name === 'Say') print(`🤖 agent: ${verb.text}`);
    if (verb.name === 'Dial') {
      const to = verb.children.map((c) => c.text.trim()).filter(Boolean).join(', ') || verb.text.trim();
      print(`↪  transferred to ${to}`);
      return { callSid, outcome: 'transfer', transferTo: to };
    }
    if (verb.name === 'Hangup') {
      print('📴 agent hung up');
      return { callSid, outcome: 'hangup' };
    }
  }
  print(`   (<Connect action> answered without Dial or Hangup: ${twiml.slice(0, 120)})`);
  return { callSid, outcome: 'caller-hung-up' };
}
