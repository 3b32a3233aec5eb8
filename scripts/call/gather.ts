import { randomBytes } from 'node:crypto';
import { signTwilioRequest } from '#libs/telephony';
import type { SimulatorOptions } from './options.js';
import { parseTwiml, type TwimlNode } from './twiml-parser.js';

export interface GatherCallOptions extends SimulatorOptions {
  from: string;
  to: string;
  print: (line: string) => void;
}

export interface GatherCallResult {
  callSid: string;
  durationSec: number;
  outcome: 'hangup' | 'transfer' | 'caller-hung-up';
}

/**
 * Plays Twilio for one speech call: signs every request as Twilio does, follows the TwiML
 * (Say, Gather, Redirect, Pause, Dial, Hangup) and speaks each utterance as a SpeechResult.
 */
export async function runGatherCall(options: GatherCallOptions): Promise<GatherCallResult> {
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const base = {
    CallSid: callSid,
    AccountSid: options.accountSid,
    From: options.from,
    To: options.to,
    CallStatus: 'in-progress',
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
  };
  const started = Date.now();
  const utterances = [...options.utterances];
  const { print } = options;

  const post = async (url: string, params: Record<string, string>) => {
    const target = new URL(url, options.publicBaseUrl);
    const signed = options.publicBaseUrl.replace(/\/+$/, '') + target.pathname + target.search;
    const t0 = performance.now();
    const res = await fetch(options.apiUrl.replace(/\/+$/, '') + target.pathname + target.search, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signTwilioRequest(options.authToken, signed, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    const body = await res.text();
    if (res.status >= 400) throw new Error(`${target.pathname} answered ${res.status}: ${body.slice(0, 200)}`);
    return { twiml: body, ms: Math.round(performance.now() - t0) };
  };

  print(`☎  calling as ${options.from} (CallSid ${callSid})`);
  let { twiml, ms } = await post('/twilio/voice', base);
  print(`   (answered in ${ms} ms)`);
  let outcome: GatherCallResult['outcome'] = 'caller-hung-up';

  documents: for (let hops = 0; hops < 100; hops++) {
    const response = parseTwiml(twiml);
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
          const next = utterances.shift();
          if (next === undefined) break documents; // nothing left to say: the caller hangs up
          print(`🗣  caller: ${next}`);
          ({ twiml, ms } = await post(verb.attrs.action, { ...base, SpeechResult: next, Confidence: '0.93' }));
          print(`   (answer in ${ms} ms)`);
          continue documents;
        }
        case 'Redirect':
          ({ twiml, ms } = await post(verb.text.trim(), base));
          print(`   (redirect answered in ${ms} ms)`);
          continue documents;
        case 'Dial':
          print(`↪  transferring to ${dialTarget(verb)}`);
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

  const durationSec = Math.max(1, Math.round((Date.now() - started) / 1000));
  await post('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: String(durationSec), SequenceNumber: '3' });
  return { callSid, durationSec, outcome };
}

function dialTarget(dial: TwimlNode): string {
  return dial.children.map((c) => c.text).join(', ') || dial.text.trim();
}
