import { randomBytes } from 'node:crypto';
import { signTwilioRequest } from '#libs/telephony';
import type { SimulatorOptions } from './options.js';

/** A change the server made to the call through Twilio's REST API, as the stand-in recorded it. */
export interface RestUpdate {
  kind: 'hangup' | 'transfer' | 'redirect' | 'twiml';
  to?: string;
  detail?: string;
}

/**
 * Twilio's side of one call that every mode shares: signed webhooks, status callbacks, and the
 * REST stand-in (when TWILIO_API_BASE_URL names one) that learns about the call, so a hang-up or
 * transfer the server sends through the REST API ends it and Twilio's status callback follows.
 */
export class TwilioCallSide {
  readonly callSid = `CA${randomBytes(16).toString('hex')}`;
  readonly startedAt = Date.now();
  readonly params: Record<string, string>;
  private readonly base: string;
  private readonly api: string;
  private standIn = false;
  private ended = false;
  private sequence = 0;

  constructor(private readonly options: SimulatorOptions) {
    this.base = options.publicBaseUrl.replace(/\/+$/, '');
    this.api = options.apiUrl.replace(/\/+$/, '');
    this.params = {
      CallSid: this.callSid, AccountSid: options.accountSid, From: options.from ?? '+15005550006', To: options.to ?? '+15005550001',
      CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01',
    };
  }

  /** True once the stand-in knows the call. */
  get hasStandIn(): boolean {
    return this.standIn;
  }

  /** POSTs a signed webhook (path and query on PUBLIC_BASE_URL) to the api; returns the body and round trip. */
  async post(pathOrUrl: string, extra: Record<string, string> = {}): Promise<{ body: string; ms: number }> {
    const target = new URL(pathOrUrl, this.base);
    const path = target.pathname + target.search;
    const body = { ...this.params, ...extra };
    const t0 = performance.now();
    const res = await fetch(this.api + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(this.options.authToken, this.base + path, body) },
      body: new URLSearchParams(body).toString(),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${target.pathname} answered ${res.status}: ${text.slice(0, 200)}`);
    return { body: text, ms: Math.round(performance.now() - t0) };
  }

  /** Tells the stand-in about the call (Twilio knows every call it connects); false without one. */
  async register(): Promise<boolean> {
    if (!this.options.twilioApiUrl) return false;
    try {
      const res = await this.standInFetch('/_stand-in/calls', {
        CallSid: this.callSid, From: this.params.From, To: this.params.To,
        StatusCallback: `${this.base}/twilio/status`, DeliverTo: `${this.api}/twilio/status`,
      });
      this.standIn = res.status === 201;
    } catch {
      this.standIn = false;
    }
    return this.standIn;
  }

  /**
   * The start of a call in a socket mode: the stand-in learns about the call; a call that never
   * connects (`status`) gets only its final callback (undefined is returned); otherwise the voice
   * webhook answers `<Connect>` with the socket's token, and the call is answered.
   */
  async connect(mode: 'stream' | 'relay', status: 'busy' | 'no-answer' | 'failed' | undefined, print: (line: string) => void): Promise<{ twiml: string; token: string; ms: number } | undefined> {
    await this.register();
    if (status) {
      print(`☎  ${this.callSid}: the call is ${status}`);
      await this.end(status);
      return undefined;
    }
    const { body: twiml, ms } = await this.post(`/twilio/voice?mode=${mode}`);
    const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(twiml)?.[1];
    const verb = mode === 'stream' ? '<Connect><Stream>' : '<Connect><ConversationRelay>';
    if (!token) throw new Error(`no ${verb} in the answer: ${twiml.slice(0, 200)}`);
    print(`☎  ${this.callSid}: ${verb} answered (webhook round trip ${ms} ms)${mode === 'stream' ? ', opening the media socket' : ''}`);
    return { twiml, token, ms };
  }

  /** The `in-progress` status callback Twilio sends once the call is answered. */
  async answered(): Promise<void> {
    await this.post('/twilio/status', { CallStatus: 'in-progress', SequenceNumber: String(this.sequence++), Timestamp: new Date().toUTCString() });
  }

  /** Changes the server asked for through the REST API so far (empty without a stand-in). */
  async restUpdates(): Promise<RestUpdate[]> {
    if (!this.standIn) return [];
    const res = await fetch(`${this.standInUrl()}/_stand-in/calls/${this.callSid}`, { headers: this.auth() }).catch(() => undefined);
    if (!res?.ok) return [];
    return ((await res.json()) as { updates: RestUpdate[] }).updates;
  }

  /**
   * Ends the call with its final status callback, unless the server already ended it through
   * the REST API (then the stand-in has sent it). With a stand-in, the stand-in delivers it.
   */
  async end(status: 'completed' | 'busy' | 'no-answer' | 'failed' = 'completed'): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.standIn) {
      const res = await this.standInFetch(`/_stand-in/calls/${this.callSid}/end`, { Status: status }).catch(() => undefined);
      if (res && (res.status === 200 || res.status === 409)) return; // 409: already ended by the server's REST call
    }
    const duration = status === 'completed' ? Math.max(1, Math.round((Date.now() - this.startedAt) / 1000)) : 0;
    try {
      await this.post('/twilio/status', { CallStatus: status, CallDuration: String(duration), SequenceNumber: String(this.sequence++), Timestamp: new Date().toUTCString() });
    } catch (err) {
      // Twilio does not retry a status callback: it logs the failure (error 11200) and the call
      // is left to the server's abandoned-call sweep. Said, not thrown: the call itself ended.
      (this.options.print ?? console.log)(`⚠  final status callback failed (${(err as Error).message}); Twilio would not retry it`);
    }
  }

  private standInUrl(): string {
    return this.options.twilioApiUrl!.replace(/\/+$/, '');
  }

  private auth(): Record<string, string> {
    return { authorization: 'Basic ' + Buffer.from(`${this.options.accountSid}:${this.options.authToken}`).toString('base64') };
  }

  private standInFetch(path: string, form: Record<string, string>): Promise<Response> {
    return fetch(this.standInUrl() + path, {
      method: 'POST',
      headers: { ...this.auth(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(25_000),
    });
  }
}
