/**
 * `npm run cli -- twilio numbers` and `twilio configure-number <+E.164 | PN sid> [--mode …] [--agent …]`:
 * the account's numbers and pointing one at this server, through the real twilio client.
 */
import { parseArgs } from 'node:util';
import type { NumberMode, NumberVoiceSettings, TwilioNumbers } from '#libs/telephony';

export const TWILIO_USAGE = `  npm run cli -- twilio numbers
  npm run cli -- twilio configure-number <+E.164 | PN sid> [--mode gather|stream|relay] [--agent NAME]`;

const MODES: NumberMode[] = ['gather', 'stream', 'relay'];

/** A usage mistake: printed with exit code 2. */
export class TwilioUsageError extends Error {}

function describe(n: NumberVoiceSettings): string {
  const url = (u: string | null, method: string | null) => (u ? `${method ?? 'POST'} ${u}` : '(none)');
  return [
    `${n.phoneNumber}  ${n.sid}  ${n.friendlyName}`,
    `  voice URL        ${url(n.voiceUrl, n.voiceMethod)}`,
    `  voice fallback   ${url(n.voiceFallbackUrl, n.voiceFallbackMethod)}`,
    `  status callback  ${url(n.statusCallback, n.statusCallbackMethod)}`,
  ].join('\n');
}

export async function runTwilio(args: string[], numbers: TwilioNumbers, out: (text: string) => void): Promise<void> {
  const [command, ...rest] = args;
  switch (command) {
    case 'numbers': {
      parseArgs({ args: rest, options: {}, strict: true });
      const all = await numbers.list();
      out(all.length ? `${all.map(describe).join('\n\n')}\n` : 'this account has no phone numbers\n');
      return;
    }
    case 'configure-number': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { mode: { type: 'string', default: 'gather' }, agent: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length !== 1) throw new TwilioUsageError('configure-number takes one number: +E.164 or a PN sid');
      if (!MODES.includes(values.mode as NumberMode)) throw new TwilioUsageError(`--mode must be one of ${MODES.join(', ')}`);
      if (values.agent !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(values.agent)) throw new TwilioUsageError('--agent must be an agent name (letters, digits, _ -)');
      const before = await numbers.find(positionals[0]);
      out(`before:\n${describe(before)}\n`);
      const after = await numbers.configure(before.sid, values.mode as NumberMode, values.agent);
      out(`after:\n${describe(after)}\n`);
      return;
    }
    default:
      throw new TwilioUsageError(`usage:\n${TWILIO_USAGE}`);
  }
}
