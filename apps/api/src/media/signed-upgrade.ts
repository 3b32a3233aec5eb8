import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import type { WebSocketServer } from 'ws';
import type { AppConfig } from '#libs/config';
import { isValidTwilioSignature, requestedUrl } from '#libs/telephony';

const logger = new Logger('TwilioSignature');

/**
 * Makes a gateway's ws server refuse unsigned upgrades with 403 before the handshake. Twilio
 * signs the `wss://` URL with no parameters. It is installed after init (not in the decorator)
 * because it needs the validated config, and decorator arguments are evaluated at import time.
 */
export function requireTwilioSignature(server: WebSocketServer, config: AppConfig, onRejected?: () => void): void {
  const options = server.options as { verifyClient?: unknown };
  options.verifyClient = (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
    const req = info.req;
    const url = requestedUrl(config.PUBLIC_BASE_URL, req.url ?? '/', config.TRUST_PROXY, req.headers, 'ws');
    const header = req.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    if (isValidTwilioSignature(config.TWILIO_AUTH_TOKEN, signature, url, {})) return done(true);
    logger.warn({ path: req.url?.split('?')[0], hasSignature: Boolean(signature) }, 'rejected unsigned media socket');
    onRejected?.();
    done(false, 403, 'Forbidden');
  };
}
