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
