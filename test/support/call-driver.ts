import { randomBytes } from 'node:crypto';
import { signTwilioRequest } from '#libs/telephony';
import { parseTwiml } from '../../scripts/call/twiml-parser.js';

/** Sends one request as Twilio would and returns status and body (status 0: no answer at all). */
export type Poster = (url: string, body: string, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

export interface GatherCallLog {
  callSid: string;
  /** Every caller utterance the server accepted (a 200 answer to a signed gather webhook). */
  spoken: string[];
  /** How the call ended: the agent hung up or transferred, Twilio used the fallback URL, or the caller ran out of things to say. */
  outcome: 'hangup' | 'transfer' | 'fallback' | 'caller-hung-up';
  /** Webhooks that did not answer 200 (Twilio would then fetch the fallback URL). */
  failures: string[];
  apologies: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Plays Twilio for one speech (gather) call against `apiUrl` with signatures over `publicBaseUrl`,
 * as Twilio does it: follows Say/Gather/Redirect/Dial/Hangup, speaks the utterances as
 * SpeechResults and, when a webhook fails (no answer, 5xx), fetches the fallback URL once and
 * plays what it says. `between` runs before each caller turn (tests use it to pace the calls).
 */
export async function playGatherCall(options: {
  apiUrl: string;
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  utterances: string[];
  post: Poster;
  between?: (turn: number) => Promise<void>;
}): Promise<GatherCallLog> {
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const base = { CallSid: callSid, AccountSid: options.accountSid, From: '+15005550006', To: '+15005550001', CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01' };
  const log: GatherCallLog = { callSid, spoken: [], outcome: 'caller-hung-up', failures: [], apologies: 0 };
  const request = async (url: string, params: Record<string, string>) => {
    const target = new URL(url.replace(/&amp;/g, '&'), options.publicBaseUrl);
    const signed = options.publicBaseUrl.replace(/\/+$/, '') + target.pathname + target.search;
    const res = await options
      .post(options.apiUrl.replace(/\/+$/, '') + target.pathname + target.search, new URLSearchParams(params).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signTwilioRequest(options.authToken, signed, params),
      })
      .catch((err: Error) => ({ status: 0, body: err.message }));
    return { ...res, path: target.pathname + target.search };
  };
  const fetchTwiml = async (url: string, params: Record<string, string>): Promise<string | undefined> => {
    const res = await request(url, params);
    if (res.status === 200) return res.body;
    log.failures.push(`${res.path} → ${res.status}`);
    const fallback = await request('/twilio/fallback', { ...params, ErrorCode: res.status ? '11200' : '11205', ErrorUrl: new URL(url, options.publicBaseUrl).toString() });
    if (fallback.status !== 200) throw new Error(`fallback URL answered ${fallback.status} after ${res.path} failed`);
    log.outcome = 'fallback';
    return undefined;
  };

  const utterances = [...options.utterances];
  let twiml = await fetchTwiml('/twilio/voice', base);
  let turn = 0;
  documents: for (let hops = 0; twiml !== undefined && hops < 100; hops++) {
    for (const verb of parseTwiml(twiml).children) {
      const said = [verb, ...verb.children].filter((v) => v.name === 'Say').map((v) => v.text).join(' ');
      if (/sorry/i.test(said)) log.apologies++;
      if (verb.name === 'Gather') {
        const next = utterances.shift();
        if (next === undefined) break documents;
        await options.between?.(++turn);
        const params = { ...base, SpeechResult: next, Confidence: '0.93' };
        twiml = await fetchTwiml(verb.attrs.action, params);
        if (twiml !== undefined) log.spoken.push(next);
        continue documents;
      }
      if (verb.name === 'Redirect') {
        twiml = await fetchTwiml(verb.text.trim(), base);
        continue documents;
      }
      if (verb.name === 'Dial') {
        log.outcome = 'transfer';
        break documents;
      }
      if (verb.name === 'Hangup') {
        log.outcome = 'hangup';
        break documents;
      }
    }
    break;
  }
  // Twilio's final status callback; a lost one is what the abandoned-call sweep is for.
  await sleep(10);
  await request('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '20', SequenceNumber: '3' });
  return log;
}

/** A Poster over global fetch (plain http, or https the process trusts). */
export const fetchPoster: Poster = async (url, body, headers) => {
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await res.text() };
};
