import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runGatherCall } from '../scripts/call/gather.js';
import { runRelayCall } from '../scripts/call/relay.js';
import { runStreamCall } from '../scripts/call/stream.js';
import { startSystem, testConfig, waitFor, type System } from './support/harness.js';
import { TwilioStandIn } from './support/twilio-stand-in.js';

// The developer's loop: the simulator plays Twilio's webhooks and sockets, the stand-in plays
// Twilio's REST API; every call must end `completed` with a disposition, in every mode.
let system: System;
let standIn: TwilioStandIn;
let standInUrl: string;

beforeAll(async () => {
  const base = testConfig();
  standIn = new TwilioStandIn(base.TWILIO_ACCOUNT_SID, base.TWILIO_AUTH_TOKEN);
  standInUrl = await standIn.start();
  system = await startSystem(testConfig({ TWILIO_API_BASE_URL: standInUrl }));
}, 60_000);

afterAll(async () => {
  await system?.close();
  await standIn?.stop();
});

function options(lines: string[]) {
  const { config, api } = system;
  return {
    apiUrl: api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN, accountSid: config.TWILIO_ACCOUNT_SID,
    twilioApiUrl: standInUrl, from: '+15005550006', to: '+15005550001', utterances: [] as string[], print: (line: string) => void lines.push(line),
  };
}

async function endedCall(callSid: string) {
  return waitFor(async () => {
    const { rows } = await system.db.query('SELECT status, "durationSec", disposition, "endedAt" FROM calls WHERE "callSid" = $1', [callSid]);
    const row = rows[0] as { status: string; durationSec: number | null; disposition: string | null; endedAt: Date | null } | undefined;
    return row?.endedAt && (row.status !== 'completed' || row.disposition) ? row : undefined;
  }, 20_000, 100);
}

/** Every tool turn is stored right before the agent reply it led to, in every mode. */
async function expectToolsBeforeReplies(callSid: string) {
  const turns = await system.turnsOf(callSid);
  turns.forEach((t, i) => {
    if (t.speaker === 'tool') expect(`${t.action} then ${turns[i + 1]?.speaker}`).toMatch(/ then (tool|agent)$/);
  });
  return turns;
}

describe('the call simulator with the Twilio REST stand-in', () => {
  it('gather: the agent hangs up, the status callback ends the call with a disposition', async () => {
    const lines: string[] = [];
    const result = await runGatherCall({ ...options(lines), utterances: ['what are your opening hours', 'goodbye'] });
    expect(result.outcome).toBe('hangup');
    expect(lines).toContain('📴 agent hung up');
    expect(lines.some((l) => /⏱ caller waited \d+ ms for the answer/.test(l))).toBe(true);
    const call = await endedCall(result.callSid);
    expect(call).toMatchObject({ status: 'completed', disposition: 'resolved' });
    expect(call.durationSec).toBeGreaterThanOrEqual(1);
    expect(standIn.delivered).toContainEqual({ callSid: result.callSid, status: 'completed', httpStatus: 204 });
  }, 30_000);

  it('gather: --status busy sends only that callback and the call ends busy', async () => {
    const result = await runGatherCall({ ...options([]), status: 'busy' });
    expect(result.outcome).toBe('not-answered');
    expect(await endedCall(result.callSid)).toMatchObject({ status: 'busy' });
  }, 30_000);

  it('relay: DTMF 0 with nobody to transfer to offers a callback; tool turns precede replies; a goodbye is followed to the <Hangup>', async () => {
    const lines: string[] = [];
    const result = await runRelayCall({ ...options(lines), inputs: [{ kind: 'dtmf', digits: '0' }], bargeIn: false });
    // No transfer number in the test config: the agent offers a callback instead of a transfer.
    expect(['caller-hung-up', 'transfer']).toContain(result.outcome);
    expect(await endedCall(result.callSid)).toMatchObject({ status: 'completed' });
    const billing = await runRelayCall({ ...options(lines), utterances: ['I was charged twice', 'no thanks'], bargeIn: false });
    expect(await endedCall(billing.callSid)).toMatchObject({ status: 'completed', disposition: 'resolved' });
    const turns = await expectToolsBeforeReplies(billing.callSid);
    expect(turns.map((t) => t.action ?? t.speaker)).toEqual(['greeting', 'caller', 'route_department', 'lookup_faq', 'route', 'caller', 'end_call', 'hangup']);
    const goodbye = await runRelayCall({ ...options(lines), utterances: ['goodbye'], bargeIn: false });
    expect(goodbye.outcome).toBe('hangup');
    expect(lines).toContain('📴 agent hung up');
    expect(await endedCall(goodbye.callSid)).toMatchObject({ status: 'completed', disposition: 'resolved' });
  }, 40_000);

  it('stream: the agent hangs up through the REST API; the stand-in records it and delivers the callback', async () => {
    const lines: string[] = [];
    const result = await runStreamCall({
      ...options(lines), utterances: ['goodbye'], bargeIn: false,
      storedCallerTurns: async (sid) => (await system.turnsOf(sid)).filter((t) => t.speaker === 'caller').map((t) => t.text),
    });
    expect(result.outcome).toBe('hangup');
    expect(standIn.updates).toContainEqual(expect.objectContaining({ callSid: result.callSid, kind: 'hangup' }));
    expect(lines).toContain('📴 agent hung up');
    expect(lines).toContain('🗣  caller said: goodbye');
    expect(lines.some((l) => l.startsWith('👂 server heard: goodbye'))).toBe(true);
    expect(lines.some((l) => /⏱ end of speech → first agent audio: \d+ ms/.test(l))).toBe(true);
    const call = await endedCall(result.callSid);
    expect(call).toMatchObject({ status: 'completed', disposition: 'resolved' });
    expect(standIn.delivered.filter((d) => d.callSid === result.callSid)).toEqual([{ callSid: result.callSid, status: 'completed', httpStatus: 204 }]);
  }, 60_000);

  it('gather: a support conversation opens a ticket through a create_ticket tool turn (state kept in the session)', async () => {
    const lines: string[] = [];
    const result = await runGatherCall({ ...options(lines), utterances: ['my internet is broken', 'it keeps dropping every evening', 'no'] });
    expect(result.outcome).toBe('hangup');
    expect(lines.some((l) => /When does it happen/.test(l))).toBe(true);
    expect(lines.some((l) => /opened ticket \d( \d){5}/.test(l))).toBe(true);
    expect(await endedCall(result.callSid)).toMatchObject({ status: 'completed', disposition: 'resolved' });
    const turns = await expectToolsBeforeReplies(result.callSid);
    const ticket = turns.findIndex((t) => t.action === 'create_ticket');
    expect(turns[ticket].text).toMatch(/^create_ticket\(\{"problem":"my internet is broken","when":"it keeps dropping every evening"\}\) → ticket \d{6}$/);
    expect(turns[ticket + 1]).toMatchObject({ speaker: 'agent' });
  }, 30_000);

  it('gather: a person asked for with no number configured ends as callback_requested, not resolved', async () => {
    const lines: string[] = [];
    const result = await runGatherCall({ ...options(lines), utterances: ['can I talk to a real person', 'yes please', 'no'] });
    expect(lines.some((l) => /call you back/.test(l))).toBe(true);
    expect(await endedCall(result.callSid)).toMatchObject({ status: 'completed', disposition: 'callback_requested' });
  }, 30_000);
});
