import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createApi } from '../../apps/api/src/create-api.js';
import { createWorker } from '../../apps/worker/src/create-worker.js';
import { loadConfig, type Config } from '#libs/config';
import { signTwilioRequest } from '#libs/telephony';

/** Configuration of a test app: the test environment plus overrides (e.g. a proxied DATABASE_URL). */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  // A loaded 2-core CI machine can take longer than the production 2.5 s to answer a turn; tests
  // that assert the answer in the first response must not see the filler. Filler tests override.
  return loadConfig({ ...process.env, PORT: '0', WORKER_PORT: '0', TURN_WAIT_MS: '8000', TURN_CEILING_MS: '14000', ...overrides });
}

export interface Running {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

async function listen(app: INestApplication): Promise<Running> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  let closed = false;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/** The real api application, listening on a free loopback port. */
export async function startApi(config = testConfig()): Promise<Running> {
  return listen(await createApi(config));
}

/** The real worker application (processors + health), in this process. */
export async function startWorker(config = testConfig()): Promise<Running> {
  return listen(await createWorker(config));
}

/** Direct SQL access for assertions. */
export function database(url = process.env.DATABASE_URL!): pg.Pool {
  return new pg.Pool({ connectionString: url, max: 2 });
}

export function redis(url = process.env.REDIS_URL!): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/** Empties the test database and the test Redis db. */
export async function resetState(): Promise<void> {
  const db = database();
  const r = redis();
  try {
    await db.query('TRUNCATE calls, turns, call_events, api_keys, audit_events RESTART IDENTITY CASCADE');
    await r.flushdb();
  } finally {
    await db.end();
    r.disconnect();
  }
}

/** An error with its cause (fetch's "fetch failed" hides the socket error in `cause`). */
function describeError(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  return cause ? `${String(err)} (${String((cause as Error).message ?? cause)})` : String(err);
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = undefined; // the latest probe answered: an older error is not why we are waiting
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${describeError(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface TwilioResponse {
  status: number;
  body: string;
  contentType: string | null;
  ms: number;
}

/**
 * Plays Twilio against a running api: form-encoded POSTs signed with the auth token over
 * PUBLIC_BASE_URL + path, exactly as Twilio signs them, sent to the api's real address.
 */
export class FakeTwilio {
  constructor(
    readonly apiUrl: string,
    readonly config: Config,
  ) {}

  sign(pathAndQuery: string, params: Record<string, string>): string {
    return signTwilioRequest(this.config.TWILIO_AUTH_TOKEN, this.config.PUBLIC_BASE_URL + pathAndQuery, params);
  }

  async post(
    pathAndQuery: string,
    params: Record<string, string>,
    options: { signature?: string | null; headers?: Record<string, string>; body?: string } = {},
  ): Promise<TwilioResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...options.headers };
    const signature = options.signature === undefined ? this.sign(pathAndQuery, params) : options.signature;
    if (signature !== null) headers['x-twilio-signature'] = signature;
    const started = performance.now();
    const res = await fetch(this.apiUrl + pathAndQuery, {
      method: 'POST',
      headers,
      body: options.body ?? new URLSearchParams(params).toString(),
    });
    return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type'), ms: performance.now() - started };
  }

  /** Path and query of a TwiML URL we returned (they are absolute, on PUBLIC_BASE_URL). */
  static pathOf(absoluteUrl: string): string {
    const u = new URL(absoluteUrl.replace(/&amp;/g, '&'));
    return u.pathname + u.search;
  }
}

let sidCounter = 0;
/** A fresh, well-formed call SID. */
export function newCallSid(): string {
  sidCounter++;
  return 'CA' + (Date.now().toString(16) + sidCounter.toString(16).padStart(4, '0') + '0'.repeat(32)).slice(0, 32);
}

export function callParams(callSid: string, config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CallSid: callSid,
    AccountSid: config.TWILIO_ACCOUNT_SID,
    From: '+15005550006',
    To: '+15005550001',
    CallStatus: 'in-progress',
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
    ...extra,
  };
}

/** First absolute URL of a verb in TwiML (e.g. the Gather action or the Redirect). */
export function twimlUrl(twiml: string, verb: 'Gather' | 'Redirect'): string | undefined {
  if (verb === 'Gather') return /<Gather[^>]*action="([^"]+)"/.exec(twiml)?.[1]?.replace(/&amp;/g, '&');
  return /<Redirect[^>]*>([^<]+)<\/Redirect>/.exec(twiml)?.[1]?.replace(/&amp;/g, '&');
}

export function sayText(twiml: string): string[] {
  return [...twiml.matchAll(/<Say[^>]*>([^<]*)<\/Say>/g)].map((m) => m[1]);
}

export interface StoredTurn {
  seq: number;
  speaker: string;
  text: string;
  action: string | null;
  confidence: number | null;
  latencyMs: number | null;
  interrupted: boolean;
}

/**
 * The whole system for an end-to-end suite: a clean state, the real worker and api on this
 * config, a signed fake Twilio, and direct Postgres and Redis handles for assertions.
 */
export async function startSystem(config: Config) {
  await resetState();
  const worker = await startWorker(config);
  const api = await startApi(config);
  const db = database();
  const r = redis();
  return {
    config,
    api,
    worker,
    twilio: new FakeTwilio(api.url, config),
    db,
    redis: r,
    /** The call's stored turns, in order. */
    async turnsOf(callSid: string): Promise<StoredTurn[]> {
      const { rows } = await db.query(
        'SELECT seq, speaker, text, action, confidence, "latencyMs", interrupted FROM turns WHERE "callSid" = $1 ORDER BY seq',
        [callSid],
      );
      return rows as StoredTurn[];
    },
    async close(): Promise<void> {
      await api.close();
      await worker.close();
      await db.end();
      r.disconnect();
    },
  };
}

export type System = Awaited<ReturnType<typeof startSystem>>;
