import twilio from 'twilio';

export type TwilioParams = Record<string, string | string[]>;

/**
 * Checks `X-Twilio-Signature` over the URL Twilio requested and the POST parameters, with
 * twilio-node's own algorithm: parameters sorted by name, HMAC-SHA1 with the auth token,
 * constant-time comparison, and the with/without-port URL variants Twilio is known to sign.
 */
export function isValidTwilioSignature(authToken: string, signature: string | undefined, url: string, params: TwilioParams): boolean {
  if (!signature || signature.length > 128) return false;
  try {
    return twilio.validateRequest(authToken, signature, url, params);
  } catch {
    return false; // a URL that cannot be parsed is simply not a valid request
  }
}

/** The signature Twilio would send (used by tests and the call simulator). */
export function signTwilioRequest(authToken: string, url: string, params: TwilioParams): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

/**
 * The URL Twilio requested: the configured public base URL plus the path and query exactly
 * as received. The Host and X-Forwarded-* headers are attacker-controlled and are only used
 * when the operator opted in (TRUST_PROXY) because a trusted proxy rewrites them.
 */
export function requestedUrl(
  publicBaseUrl: string,
  originalUrl: string,
  trustProxy = false,
  headers: Record<string, string | string[] | undefined> = {},
  scheme?: 'ws' | 'http',
): string {
  let base = publicBaseUrl;
  if (trustProxy && headers['x-forwarded-host']) {
    const proto = String(headers['x-forwarded-proto'] ?? 'https').split(',')[0].trim();
    base = `${proto}://${String(headers['x-forwarded-host']).split(',')[0].trim()}`;
  }
  if (scheme === 'ws') base = base.replace(/^http/, 'ws');
  return base + originalUrl;
}
