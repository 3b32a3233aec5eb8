import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AppConfig } from '#libs/config';
import { isValidTwilioSignature, TwilioRestService, Twiml } from '#libs/telephony';
import { testConfig, waitFor } from './support/harness.js';
import { TwilioStandIn } from './support/twilio-stand-in.js';

// The development stand-in driven by the real twilio client (TwilioRestService), with a local
// receiver for the status callbacks it delivers: what `npm run dev` relies on.
const config = testConfig();
const standIn = new TwilioStandIn(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN);
const callbacks: { params: Record<string, string>; valid: boolean }[] = [];
let receiver: Server;
let receiverUrl: string;
let rest: TwilioRestService;
let standInUrl: string;

const PUBLIC = 'https://voice.example.test/twilio/status';

beforeAll(async () => {
  standInUrl = await standIn.start();
  rest = new TwilioRestService({ ...config, TWILIO_API_BASE_URL: standInUrl } as AppConfig);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      callbacks.push({ params, valid: isValidTwilioSignature(config.TWILIO_AUTH_TOKEN, req.headers['x-twilio-signature'] as string, PUBLIC, params) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/twilio/status`;
});

afterAll(async () => {
  await standIn.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
});

async function register(sid: string): Promise<number> {
  const res = await fetch(`${standInUrl}/_stand-in/calls`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${config.TWILIO_ACCOUNT_SID}:${config.TWILIO_AUTH_TOKEN}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ CallSid: sid, From: '+15005550006', To: '+15005550001', StatusCallback: PUBLIC, DeliverTo: receiverUrl }).toString(),
  });
  return res.status;
}

describe('the Twilio REST stand-in', () => {
  it('records a transfer sent as new TwiML and delivers a signed completed callback', async () => {
    const sid = 'CA' + 'a'.repeat(32);
    expect(await register(sid)).toBe(201);
    expect(await rest.redirectCall(sid, Twiml.transfer({ voice: 'Polly.Joanna', language: 'en-US' }, '', '+15005550009'))).toBe(true);
    expect(standIn.updates).toContainEqual(expect.objectContaining({ callSid: sid, kind: 'transfer', to: '+15005550009' }));
    const callback = await waitFor(async () => callbacks.find((c) => c.params.CallSid === sid));
    expect(callback.valid).toBe(true);
    expect(callback.params).toMatchObject({ CallStatus: 'completed', From: '+15005550006', AccountSid: config.TWILIO_ACCOUNT_SID });
    expect(Number(callback.params.CallDuration)).toBeGreaterThanOrEqual(1);
    // The call has ended: a second change is refused as Twilio refuses it, and no second callback comes.
    await expect(rest.hangUp(sid)).rejects.toMatchObject({ code: 21220 });
    expect(callbacks.filter((c) => c.params.CallSid === sid)).toHaveLength(1);
  });

  it('records a hang-up, and refuses to register a call without a status callback URL', async () => {
    const sid = 'CA' + 'b'.repeat(32);
    expect(await register(sid)).toBe(201);
    expect(await rest.hangUp(sid)).toBe(true);
    expect(standIn.updates).toContainEqual(expect.objectContaining({ callSid: sid, kind: 'hangup' }));
    await waitFor(async () => callbacks.some((c) => c.params.CallSid === sid && c.params.CallStatus === 'completed'));
    expect(await register('CA123')).toBe(400);
  });

  it('answers 20404 for a call it does not know, as Twilio does', async () => {
    expect(await rest.hangUp('CA' + 'c'.repeat(32))).toBe(false);
  });
});
