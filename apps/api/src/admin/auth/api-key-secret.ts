import { createHash, randomBytes } from 'node:crypto';

/** `read`: query calls. `write`: place calls. `admin`: erase data, manage keys. Scopes do not imply each other. */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

const KEY_PREFIX = 'sbk_';

export interface GeneratedApiKey {
  /** The secret, shown once to the operator and never stored. */
  key: string;
  /** The key's first characters, stored to tell keys apart in listings. */
  prefix: string;
  hash: string;
}

/** 256 random bits: long enough that guessing is hopeless, so a single SHA-256 (no salt, no KDF) suffices. */
export function generateApiKey(): GeneratedApiKey {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, prefix: key.slice(0, 12), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
