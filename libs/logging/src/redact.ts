import { redactPii } from '#libs/redaction';
/** Field names whose values are phone numbers or secrets wherever they appear in a log object. */
const SENSITIVE_KEYS = new Set(
  [
    'from', 'to', 'caller', 'called', 'fromnumber', 'tonumber', 'forwardedfrom', 'callername',
    'authorization', 'x-twilio-signature', 'cookie', 'password', 'token', 'authtoken', 'apikey', 'key',
    'twilio_auth_token', 'admin_api_key', 'openai_api_key', 'database_url', 'metrics_token',
    'deepgram_api_key', 'elevenlabs_api_key', 'xi-api-key',
    // What a caller says or keys in, as Twilio posts it: never logged verbatim.
    'speechresult', 'unstablespeechresult', 'digits', 'voiceprompt',
  ].map((k) => k.toLowerCase()),
);

// E.164 numbers (+ and 7 to 15 digits), also URL-encoded (%2B) as they appear in query strings.
const PHONE = /(\+|%2B)\d{7,15}/gi;

/** Keeps the country code and the last two digits, so operators can still tell calls apart. */
export function maskPhoneNumbers(text: string): string {
  return text.replace(PHONE, (match, plus: string) => {
    const digits = match.slice(plus.length);
    return `${plus}${digits.slice(0, 1)}${'*'.repeat(Math.max(0, digits.length - 3))}${digits.slice(-2)}`;
  });
}

/** Deep copy of a log value with secrets replaced and phone numbers masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhoneNumbers(redactPii(value).text);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SENSITIVE_KEYS.has(k.toLowerCase()) && v != null ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}
