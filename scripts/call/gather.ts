import { inputsOf, type CallResult, type SimulatorOptions } from './options.js';
import { TwilioCallSide } from './twilio-side.js';
import { parseTwiml, type TwimlNode } from './twiml-parser.js';

export interface GatherCallOptions extends SimulatorOptions {
  from: string;
  to: string;
  print: (line: string) => void;
  /** Confidence Twilio reports with each SpeechResult (below the server's threshold = not understood). */
  confidence?: number;
  /** The call never connects: only this final status callback is sent. */
  status?: 'busy' | 'no-answer' | 'failed';
}

export type GatherCallResult = CallResult;

/**
 * Plays Twilio for one speech call: signs every request as Twilio does, follows the TwiML
 * (Say, Gather, Redirect, Pause, Dial, Hangup), answers each Gather with the caller's next input
 * (SpeechResult, Digits or an empty result) and sends the status callbacks of the call's life.
 */
export async function runGatherCall(options: GatherCallOptions): Promise<GatherCallResult> {
  const call = new TwilioCallSide(options);
  const { callSid } = call;
  const { print } = options;
  const inputs = inputsOf(options);
  await call.register();

  if (options.status) {
    print(`☎  calling as ${options.from} (CallSid ${callSid}): the call is ${options.status}`);
    await call.end(options.status);
    return { callSid, outcome: 'not-answered' };
  }

  print(`☎  calling as ${options.from} (CallSid ${callSid})`);
  let { body: twiml, ms } = await call.post('/twilio/voice', {});
  print(`   ⏱ answered: webhook round trip ${ms} ms`);
  await call.answered();
  let outcome: GatherCallResult['outcome'] = 'caller-hung-up';
  let transferTo: string | undefined;
  /** The caller's wait since their last input, across fillers and redirects. */
  let waitedMs = 0;
  let redirects = 0;

  documents: for (let hops = 0; hops < 200; hops++) {
    const response = parseTwiml(twiml);
    // The document that carries the answer (not a filler that redirects) ends the caller's wait.
    const filler = response.children.some((v) => v.name === 'Redirect') && !response.children.some((v) => v.name === 'Gather');
    if (waitedMs && !filler) {
      print(`   ⏱ caller waited ${waitedMs} ms for the answer${redirects ? ` (${redirects} redirect${redirects > 1 ? 's' : ''})` : ''}`);
      waitedMs = 0;
    }
    for (const verb of response.children) {
      switch (verb.name) {
        case 'Say':
          print(`🤖 agent: ${verb.text}`);
          break;
        case 'Pause':
          print(`   (pause ${verb.attrs.length ?? 1} s)`);
          break;
        case 'Gather': {
          for (const child of verb.children) if (child.name === 'Say') print(`🤖 agent: ${child.text}`);
          const next = inputs.shift();
          if (next === undefined) break documents; // nothing left to say: the caller hangs up
          const params: Record<string, string> =
            next.kind === 'speech'
              ? { SpeechResult: next.text, Confidence: String(options.confidence ?? 0.93) }
              : next.kind === 'dtmf'
                ? { Digits: next.digits }
                : {};
          print(next.kind === 'speech' ? `🗣  caller: ${next.text}${options.confidence !== undefined ? `  (confidence ${options.confidence})` : ''}` : next.kind === 'dtmf' ? `☎  caller pressed ${next.digits}` : '🤐 caller: (silence)');
          ({ body: twiml, ms } = await call.post(verb.attrs.action, params));
          waitedMs = ms;
          redirects = 0;
          continue documents;
        }
        case 'Redirect':
          ({ body: twiml, ms } = await call.post(verb.text.trim()));
          waitedMs += ms;
          redirects++;
          continue documents;
        case 'Dial':
          transferTo = dialTarget(verb);
          print(`↪  transferred to ${transferTo}`);
          outcome = 'transfer';
          break documents;
        case 'Hangup':
          print('📴 agent hung up');
          outcome = 'hangup';
          break documents;
        default:
          print(`   (ignoring <${verb.name}>)`);
      }
    }
    break; // the document ended without a verb that continues the call
  }
  if (outcome === 'caller-hung-up') print('📴 caller hung up');
  await call.end('completed');
  return { callSid, outcome, transferTo };
}

function dialTarget(dial: TwimlNode): string {
  return dial.children.map((c) => c.text.trim()).filter(Boolean).join(', ') || dial.text.trim();
}
