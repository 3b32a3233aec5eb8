/**
 * A local stand-in for Twilio's REST API, started by `npm run dev` on TWILIO_API_BASE_URL's
 * port. The api's REST client (hang-up, transfer, redirect during a stream) talks to it instead
 * of api.twilio.com; it records those changes for the simulator and delivers the signed status
 * callback Twilio would send. Never used in production (the config refuses the variable there).
 */
import { loadConfig } from '#libs/config';
import { TwilioStandIn } from '../test/support/twilio-stand-in.js';

const config = loadConfig();
if (!config.TWILIO_API_BASE_URL) {
  process.stderr.write('[twilio stand-in] TWILIO_API_BASE_URL is not set: nothing to stand in for\n');
  process.exit(1);
}
const url = new URL(config.TWILIO_API_BASE_URL);
const standIn = new TwilioStandIn(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, (line) => process.stdout.write(`[twilio stand-in] ${line}\n`));
await standIn.start(Number(url.port) || 80);
process.stdout.write(`[twilio stand-in] Twilio REST API stand-in on ${config.TWILIO_API_BASE_URL}\n`);
const stop = () => void standIn.stop().finally(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
