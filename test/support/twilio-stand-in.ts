import { signTwilioRequest } from '../../libs/telephony/src/twilio-signature.js';
import { FakeTwilioApi } from './fake-twilio-api.js';

/** A call Twilio knows about because the simulator placed it (an inbound call to our number). */
export interface StandInCall {
  sid: string;
  from: string;
  to: string;
  status: string;
  startedAt: number;
  /** URL the status callback is signed over (what the number's "call status changes" is set to). */
  statusCallback: string;
  /** Where it is actually posted (the api's local address); defaults to `statusCallback`. */
  deliverTo: string;
}

/** One change a server asked for on a live call through the REST API. */
export interface CallUpdate {
  callSid: string;
  kind: 'hangup' | 'transfer' | 'redirect' | 'twiml';
  /** Number dialled, for a transfer. */
  to?: string;
  /** The TwiML or redirect URL as sent. */
  detail?: string;
  at: number;
}

export type EndStatus = 'completed' | 'busy' | 'no-answer' | 'failed';

type Params = Record<string, string | string[]>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * Twilio's side of a call's life for development (`npm run dev`) and tests: on top of the
 * REST fake, it learns about inbound calls from the simulator, records hang-ups, transfers and
 * redirects sent through `calls(sid).update`, ends the call as Twilio would and delivers the
 * signed status callback. Its own routes live under `/_stand-in/` (never one of Twilio's paths).
 */
export class TwilioStandIn {
  readonly api: FakeTwilioApi;
  readonly live = new Map<string, StandInCall>();
  readonly updates: CallUpdate[] = [];
  /** Status callbacks delivered, with the answer's HTTP status (0: unreachable). */
  readonly delivered: { callSid: string; status: string; httpStatus: number }[] = [];

  constructor(
    private readonly accountSid: string,
    private readonly authToken: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.api = new FakeTwilioApi(accountSid, authToken);
    this.api.routes.push((method, path, params, json) => this.route(method, path, params, json));
  }

  start(port = 0): Promise<string> {
    return this.api.start(port);
  }

  stop(): Promise<void> {
    return this.api.stop();
  }

  private route(method: string, path: string, params: Params, json: (status: number, body: unknown) => void): boolean {
    if (method === 'POST' && path === '/_stand-in/calls') {
      const sid = one(params.CallSid) ?? '';
      const statusCallback = one(params.StatusCallback) ?? '';
      if (!/^CA[0-9a-f]{32}$/.test(sid) || !/^https?:\/\//.test(statusCallback)) {
        json(400, { code: 21218, message: 'CallSid (CA + 32 hex digits) and StatusCallback (a URL) are required', status: 400 });
        return true;
      }
      this.live.set(sid, {
        sid, from: one(params.From) ?? '', to: one(params.To) ?? '', status: 'in-progress', startedAt: Date.now(),
        statusCallback, deliverTo: one(params.DeliverTo) || statusCallback,
      });
      json(201, { sid, status: 'in-progress' });
      return true;
    }
    const own = /^\/_stand-in\/calls\/(CA[0-9a-f]{32})(\/end)?$/.exec(path);
    if (own) {
      const call = this.live.get(own[1]);
      if (!call) json(404, { code: 20404, message: 'unknown call', status: 404 });
      else if (method === 'POST' && own[2]) {
        // The caller hung up (or the call never connected): Twilio ends it and reports.
        const status = (one(params.Status) ?? 'completed') as EndStatus;
        void this.endCall(call.sid, status).then((ended) => json(ended ? 200 : 409, { sid: call.sid, status: call.status }));
      } else json(200, { sid: call.sid, status: call.status, updates: this.updates.filter((u) => u.callSid === call.sid) });
      return true;
    }

    const match = new RegExp(`^/2010-04-01/Accounts/${this.accountSid}/Calls/(CA[0-9a-f]{32})\\.json$`).exec(path);
    const call = match ? this.live.get(match[1]) : undefined;
    if (!call) return false;
    const instance = () => ({ sid: call.sid, account_sid: this.accountSid, to: call.to, from: call.from, status: call.status, direction: 'inbound', api_version: '2010-04-01' });
    if (method === 'GET') {
      json(200, instance());
      return true;
    }
    if (method !== 'POST') return false;
    if (call.status !== 'in-progress') {
      // What Twilio answers when a call that already ended is modified.
      json(400, { code: 21220, message: 'Call is not in-progress. Cannot redirect.', status: 400, more_info: 'https://www.twilio.com/docs/errors/21220' });
      return true;
    }
    const update = describeUpdate(call.sid, params);
    this.updates.push(update);
    this.log(`${call.sid}: ${update.kind}${update.to ? ` to ${update.to}` : update.detail ? ` ${update.detail.slice(0, 120)}` : ''}`);
    const ends = update.kind === 'hangup' || update.kind === 'transfer';
    json(200, { ...instance(), status: ends ? 'completed' : call.status });
    // A hang-up ends the call; a transfer ends our part of it once the dialled party answers.
    if (ends) void this.endCall(call.sid, 'completed');
    return true;
  }

  /** Ends a live call and delivers its signed status callback, as Twilio does; false if unknown or already ended. */
  async endCall(callSid: string, status: EndStatus): Promise<boolean> {
    const call = this.live.get(callSid);
    if (!call || call.status !== 'in-progress') return false;
    call.status = status;
    const answered = status === 'completed';
    const params: Record<string, string> = {
      CallSid: call.sid, AccountSid: this.accountSid, From: call.from, To: call.to, Direction: 'inbound',
      ApiVersion: '2010-04-01', CallStatus: status, CallDuration: answered ? String(Math.max(1, Math.round((Date.now() - call.startedAt) / 1000))) : '0',
      Timestamp: new Date().toUTCString(), SequenceNumber: '1',
    };
    let httpStatus = 0;
    try {
      const res = await fetch(call.deliverTo, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(this.authToken, call.statusCallback, params) },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(20_000),
      });
      httpStatus = res.status;
      await res.text();
    } catch {
      httpStatus = 0;
    }
    this.delivered.push({ callSid, status, httpStatus });
    this.log(`${callSid}: status callback ${status} → ${httpStatus || 'unreachable'}`);
    return true;
  }
}

function describeUpdate(callSid: string, params: Params): CallUpdate {
  const at = Date.now();
  const twiml = one(params.Twiml);
  const url = one(params.Url);
  if (one(params.Status) === 'completed') return { callSid, kind: 'hangup', at };
  const dialled = twiml ? /<Dial\b[^>]*>\s*(?:<Number\b[^>]*>)?\s*([^<\s]+)/.exec(twiml)?.[1] : undefined;
  if (dialled) return { callSid, kind: 'transfer', to: dialled, detail: twiml, at };
  if (twiml && /<Hangup\s*\/?>/.test(twiml)) return { callSid, kind: 'hangup', detail: twiml, at };
  if (url) return { callSid, kind: 'redirect', detail: url, at };
  return { callSid, kind: 'twiml', detail: twiml, at };
}
