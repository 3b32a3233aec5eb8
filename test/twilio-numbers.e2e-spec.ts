import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeTwilioApi } from './support/fake-twilio-api.js';

const SID = process.env.TWILIO_ACCOUNT_SID!;
const TOKEN = process.env.TWILIO_AUTH_TOKEN!;
const BASE = process.env.PUBLIC_BASE_URL!;

/** `npm run cli -- twilio …` as an operator runs it: a separate process, the real twilio client. */
// Asynchronous: the fake Twilio API answers from this very process.
function cli(args: string[], env: Record<string, string> = {}, built = false): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const command = built ? ['dist/scripts/cli.js', ...args] : ['--conditions=development', 'node_modules/tsx/dist/cli.mjs', 'scripts/cli.ts', ...args];
  return new Promise((resolve) => {
    execFile('node', command, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('twilio numbers CLI (against a local fake of Twilio REST API)', () => {
  const fake = new FakeTwilioApi(SID, TOKEN);
  let env: Record<string, string>;
  let pn: string;

  beforeAll(async () => {
    env = { TWILIO_API_BASE_URL: await fake.start() };
    pn = fake.addNumber('+15005550006', { voice_url: 'https://old.example.com/voice', friendly_name: 'Main line' });
    fake.addNumber('+15005550007');
  });
  afterAll(() => fake.stop());

  it('lists the account numbers with their voice and status URLs', async () => {
    const result = await cli(['twilio', 'numbers'], env);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`+15005550006  ${pn}  Main line`);
    expect(result.stdout).toMatch(/voice URL +POST https:\/\/old\.example\.com\/voice/);
    expect(result.stdout).toContain('+15005550007');
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', authorized: true });
  }, 120_000);

  it('configures a number by E.164: voice URL, fallback and status callback from PUBLIC_BASE_URL, before and after', async () => {
    const result = await cli(['twilio', 'configure-number', '+15005550006', '--mode', 'relay', '--agent', 'sales'], env);
    expect(result.status).toBe(0);
    const [before, after] = result.stdout.split('after:');
    expect(before).toContain('https://old.example.com/voice');
    expect(after).toContain(`POST ${BASE}/twilio/voice?mode=relay&agent=sales`);
    expect(after).toContain(`POST ${BASE}/twilio/fallback`);
    expect(after).toContain(`POST ${BASE}/twilio/status`);
    const update = fake.requests.find((r) => r.method === 'POST' && r.path.endsWith(`${pn}.json`));
    expect(update?.params).toMatchObject({
      VoiceUrl: `${BASE}/twilio/voice?mode=relay&agent=sales`,
      VoiceMethod: 'POST',
      VoiceFallbackUrl: `${BASE}/twilio/fallback`,
      VoiceFallbackMethod: 'POST',
      StatusCallback: `${BASE}/twilio/status`,
      StatusCallbackMethod: 'POST',
    });
    expect(fake.numbers.get(pn)?.voice_url).toBe(`${BASE}/twilio/voice?mode=relay&agent=sales`);
  }, 120_000);

  it('configures by PN sid with the default mode (gather), from the built CLI of the runtime image', async () => {
    // The built CLI as the image runs it, but not with NODE_ENV=production: production refuses a
    // Twilio REST stand-in (TWILIO_API_BASE_URL), and this test has only the local fake to talk to.
    const result = await cli(['twilio', 'configure-number', pn], { ...env, NODE_ENV: 'test' }, true);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(fake.numbers.get(pn)?.voice_url).toBe(`${BASE}/twilio/voice?mode=gather`);
  }, 120_000);

  it('says clearly when the number is unknown, the input is not a number, or the credentials are refused', async () => {
    const [unknown, unknownSid, bad, badMode, refused] = await Promise.all([
      cli(['twilio', 'configure-number', '+15005550999'], env),
      cli(['twilio', 'configure-number', 'PN' + 'f'.repeat(32)], env),
      cli(['twilio', 'configure-number', '555-1234'], env),
      cli(['twilio', 'configure-number', '+15005550006', '--mode', 'fax'], env),
      cli(['twilio', 'numbers'], { ...env, TWILIO_AUTH_TOKEN: 'wrong-token-0123456789abcdef' }),
    ]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr.trim()).toBe(`the account ${SID} has no phone number +15005550999`);

    expect(unknownSid.status).toBe(1);
    expect(unknownSid.stderr).toMatch(/has no phone number PNf{32}/);

    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/neither an E\.164 number/);

    expect(badMode.status).toBe(2);
    expect(badMode.stderr).toMatch(/--mode must be one of gather, stream, relay/);

    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toBe(`Twilio refused the credentials of account ${SID}: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN`);
  }, 120_000);
});
