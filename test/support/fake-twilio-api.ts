import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Extra routes tried before Twilio's (see twilio-stand-in.ts); true when one answered. */
export type FakeRoute = (
  method: string,
  path: string,
  params: Record<string, string | string[]>,
  json: (status: number, body: unknown) => void,
) => boolean;

export interface RecordedRequest {
  method: string;
  path: string;
  params: Record<string, string | string[]>;
  authorized: boolean;
}

/**
 * A local stand-in for Twilio's REST API (api.twilio.com/2010-04-01): the real URL layout,
 * HTTP basic authentication, form-encoded parameters and Twilio's JSON answers and errors.
 * The real `twilio` client is pointed at it through TWILIO_API_BASE_URL.
 */
export class FakeTwilioApi {
  readonly requests: RecordedRequest[] = [];
  /** Calls that exist (created here, or added by a test). Updating an unknown call answers 20404. */
  readonly calls = new Map<string, { status: string; to: string; from: string }>();
  /** Routes added by extensions (the development stand-in), tried after authentication. */
  readonly routes: FakeRoute[] = [];
  /** The account's phone numbers (IncomingPhoneNumbers), by PN sid. Tests add them with `addNumber`. */
  readonly numbers = new Map<string, FakeIncomingNumber>();
  private server?: Server;
  private counter = 0;

  constructor(
    private readonly accountSid: string,
    private readonly authToken: string,
  ) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
      const prev = params[k];
      params[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
    }
    const expected = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
    const authorized = req.headers.authorization === expected;
    const path = (req.url ?? '').split('?')[0];
    this.requests.push({ method: req.method ?? '', path, params, authorized });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!authorized) return json(401, { code: 20003, message: 'Authenticate', status: 401, more_info: 'https://www.twilio.com/docs/errors/20003' });

    if (path.startsWith(`/2010-04-01/Accounts/${this.accountSid}/IncomingPhoneNumbers`)) return this.handleNumbers(req.method ?? '', req.url ?? '', path, params, json);
    for (const route of this.routes) if (route(req.method ?? '', path, params, json)) return;
    const base = `/2010-04-01/Accounts/${this.accountSid}/Calls`;
    if (req.method === 'POST' && path === `${base}.json`) {
      const sid = 'CA' + (Date.now().toString(16) + (++this.counter).toString(16)).padEnd(32, 'f').slice(0, 32);
      const call = { status: 'queued', to: String(params.To), from: String(params.From) };
      this.calls.set(sid, call);
      return json(201, this.instance(sid, call));
    }
    const match = new RegExp(`^${base}/(CA[0-9a-f]{32})\\.json$`).exec(path);
    if (req.method === 'POST' && match) {
      const call = this.calls.get(match[1]);
      if (!call) return json(404, { code: 20404, message: `The requested resource ${path} was not found`, status: 404, more_info: 'https://www.twilio.com/docs/errors/20404' });
      if (params.Status === 'completed') call.status = 'completed';
      return json(200, this.instance(match[1], call));
    }
    json(404, { code: 20404, message: 'not found', status: 404 });
  }

  /** Adds a number to the account, as buying one in the console would. Returns its PN sid. */
  addNumber(phoneNumber: string, fields: Partial<FakeIncomingNumber> = {}): string {
    const sid = 'PN' + (++this.counter).toString(16).padStart(32, '0');
    this.numbers.set(sid, {
      sid,
      phone_number: phoneNumber,
      friendly_name: phoneNumber,
      voice_url: '',
      voice_method: 'POST',
      voice_fallback_url: null,
      voice_fallback_method: 'POST',
      status_callback: '',
      status_callback_method: 'POST',
      ...fields,
    });
    return sid;
  }

  /** GET list (optionally ?PhoneNumber=), GET one, POST update: the fields Twilio's API has. */
  private handleNumbers(
    method: string,
    url: string,
    path: string,
    params: Record<string, string | string[]>,
    json: (status: number, body: unknown) => void,
  ): void {
    const base = `/2010-04-01/Accounts/${this.accountSid}/IncomingPhoneNumbers`;
    const notFound = () => json(404, { code: 20404, message: `The requested resource ${path} was not found`, status: 404, more_info: 'https://www.twilio.com/docs/errors/20404' });
    if (method === 'GET' && path === `${base}.json`) {
      const query = new URLSearchParams(url.split('?')[1] ?? '');
      const wanted = query.get('PhoneNumber');
      const list = [...this.numbers.values()].filter((n) => !wanted || n.phone_number === wanted);
      return json(200, {
        incoming_phone_numbers: list.map((n) => this.numberInstance(n)),
        first_page_uri: `${base}.json?PageSize=50&Page=0`,
        next_page_uri: null,
        previous_page_uri: null,
        page: 0,
        page_size: 50,
        start: 0,
        end: Math.max(0, list.length - 1),
        uri: `${base}.json?PageSize=50&Page=0`,
      });
    }
    const match = new RegExp(`^${base}/(PN[0-9a-f]{32})\\.json$`).exec(path);
    const number = match ? this.numbers.get(match[1]) : undefined;
    if (!number) return notFound();
    if (method === 'GET') return json(200, this.numberInstance(number));
    if (method === 'POST') {
      const fields: Record<string, keyof FakeIncomingNumber> = {
        VoiceUrl: 'voice_url',
        VoiceMethod: 'voice_method',
        VoiceFallbackUrl: 'voice_fallback_url',
        VoiceFallbackMethod: 'voice_fallback_method',
        StatusCallback: 'status_callback',
        StatusCallbackMethod: 'status_callback_method',
        FriendlyName: 'friendly_name',
      };
      for (const [param, field] of Object.entries(fields)) if (typeof params[param] === 'string') (number as unknown as Record<string, string>)[field] = params[param] as string;
      return json(200, this.numberInstance(number));
    }
    notFound();
  }

  private numberInstance(n: FakeIncomingNumber) {
    return {
      ...n,
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      capabilities: { voice: true, sms: true, mms: false, fax: false },
      date_created: new Date(0).toUTCString(),
      uri: `/2010-04-01/Accounts/${this.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
    };
  }

  private instance(sid: string, call: { status: string; to: string; from: string }) {
    return {
      sid,
      account_sid: this.accountSid,
      to: call.to,
      from: call.from,
      status: call.status,
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${sid}.json`,
    };
  }
}

/** The fields of an IncomingPhoneNumber the fake keeps (Twilio's JSON names). */
export interface FakeIncomingNumber {
  sid: string;
  phone_number: string;
  friendly_name: string;
  voice_url: string;
  voice_method: string;
  voice_fallback_url: string | null;
  voice_fallback_method: string;
  status_callback: string;
  status_callback_method: string;
}
