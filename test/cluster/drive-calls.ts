/**
 * Child process of the scale-out test: plays Twilio for many calls at once through the TLS proxy
 * (it trusts the proxy's local CA through NODE_EXTRA_CA_CERTS). Prints one JSON line per event:
 * `{"turn":…}` as caller turns are accepted, and `{"done":[…]}` with every call's log at the end.
 *
 * argv[2]: JSON { url, authToken, accountSid, gather, relay, stream, pauseMs }
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { signTwilioRequest } from '#libs/telephony';
import { runRelayCall } from '../../scripts/call/relay.js';
import { runStreamCall } from '../../scripts/call/stream.js';
import { fetchPoster, playGatherCall } from '../support/call-driver.js';

const opts = JSON.parse(process.argv[2]) as { url: string; authToken: string; accountSid: string; gather: number; relay: number; stream: number; pauseMs: number };
const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);
const common = { apiUrl: opts.url, publicBaseUrl: opts.url, authToken: opts.authToken, accountSid: opts.accountSid };

const GATHER = ['I need help with my bill', 'what are your opening hours', 'do you have a refund policy', 'can I speak to sales', 'goodbye'];
const RELAY = ['I need help with my bill', 'what are your opening hours', 'goodbye'];

async function gatherCall(i: number) {
  await sleep(i * 150);
  const log = await playGatherCall({
    ...common,
    utterances: GATHER,
    post: fetchPoster,
    between: async (turn) => {
      emit({ turn, mode: 'gather', call: i });
      await sleep(opts.pauseMs);
    },
  });
  return { mode: 'gather', ...log };
}

/** A relay call; when its socket drops (its api was killed), Twilio posts the <Connect action>. */
async function relayCall(i: number) {
  await sleep(i * 200);
  const lines: string[] = [];
  let callSid = '';
  try {
    ({ callSid } = await runRelayCall({ ...common, utterances: RELAY, bargeIn: false, print: (l) => {
      lines.push(l);
      const sid = /☎ {2}(CA[0-9a-f]{32})/.exec(l)?.[1];
      if (sid) callSid = sid;
      if (l.startsWith('🗣')) emit({ turn: lines.length, mode: 'relay', call: i });
    } }));
    return { mode: 'relay', callSid, outcome: 'completed', lines };
  } catch (err) {
    // Twilio's side of a dropped relay socket: the action callback, answered with TwiML.
    const params = { CallSid: callSid, AccountSid: opts.accountSid, From: '+15005550006', To: '+15005550001', CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01', SessionStatus: 'failed' };
    const res = callSid
      ? await fetchPoster(`${opts.url}/twilio/relay/action`, new URLSearchParams(params).toString(), {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signTwilioRequest(opts.authToken, `${opts.url}/twilio/relay/action`, params),
        }).catch((e: Error) => ({ status: 0, body: e.message }))
      : { status: 0, body: '' };
    return { mode: 'relay', callSid, outcome: res.status === 200 && res.body.includes('<Response>') ? 'degraded' : 'failed', error: (err as Error).message, lines };
  }
}

async function streamCall(i: number) {
  const lines: string[] = [];
  const { callSid } = await runStreamCall({ ...common, utterances: ['I need help with my bill', 'goodbye'], bargeIn: false, print: (l) => lines.push(l) });
  return { mode: 'stream', callSid, outcome: 'completed', lines, call: i };
}

const results = await Promise.all([
  ...Array.from({ length: opts.gather }, (_, i) => gatherCall(i)),
  ...Array.from({ length: opts.relay }, (_, i) => relayCall(i)),
  ...Array.from({ length: opts.stream }, (_, i) => streamCall(i)),
]);
emit({ done: results });
