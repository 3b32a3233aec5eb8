import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { generateApiKey, type Scope } from '../../apps/api/src/admin/auth/api-key-secret.js';
import { newCallSid } from './harness.js';

/** Fixtures of the admin API tests: calls, turns and keys written straight to Postgres. */

export interface SeedCall {
  callSid?: string;
  startedAt: Date;
  status?: string;
  direction?: 'inbound' | 'outbound';
  mode?: 'gather' | 'stream' | 'relay';
  fromNumber?: string;
  toNumber?: string;
  durationSec?: number | null;
  disposition?: string | null;
  summary?: string | null;
  turns?: { speaker: 'caller' | 'agent'; text: string; latencyMs?: number; data?: unknown }[];
  events?: { type: string; data?: unknown }[];
}

export async function seedCall(db: pg.Pool, c: SeedCall): Promise<string> {
  const callSid = c.callSid ?? newCallSid();
  await db.query(
    `INSERT INTO calls (id, "callSid", direction, mode, status, "fromNumber", "toNumber", "startedAt", "endedAt", "durationSec", disposition, summary, "updatedAt")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())`,
    [
      randomUUID(), callSid, c.direction ?? 'inbound', c.mode ?? 'gather', c.status ?? 'completed', c.fromNumber ?? '+15005550006',
      c.toNumber ?? '+15005550001', c.startedAt, c.durationSec != null ? new Date(c.startedAt.getTime() + c.durationSec * 1000) : null,
      c.durationSec ?? null, c.disposition ?? null, c.summary ?? null,
    ],
  );
  let seq = 0;
  for (const t of c.turns ?? []) {
    seq++;
    await db.query(
      `INSERT INTO turns ("callSid", seq, speaker, text, "startedAt", "latencyMs", data) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [callSid, seq, t.speaker, t.text, new Date(c.startedAt.getTime() + seq * 1000), t.latencyMs ?? null, t.data === undefined ? null : JSON.stringify(t.data)],
    );
  }
  let n = 0;
  for (const e of c.events ?? []) {
    n++;
    await db.query(`INSERT INTO call_events ("callSid", type, "dedupeKey", data, "createdAt") VALUES ($1, $2, $3, $4, $5)`, [
      callSid, e.type, `${e.type}:${n}`, e.data === undefined ? null : JSON.stringify(e.data), new Date(c.startedAt.getTime() + n * 500),
    ]);
  }
  return callSid;
}

/** Stores a key as the CLI would and returns the secret. */
export async function createKey(db: pg.Pool, name: string, scopes: Scope[], revoked = false): Promise<{ id: string; key: string }> {
  const { key, prefix, hash } = generateApiKey();
  const id = randomUUID();
  await db.query(`INSERT INTO api_keys (id, name, prefix, hash, scopes, "revokedAt") VALUES ($1, $2, $3, $4, $5, $6)`, [
    id, name, prefix, hash, scopes, revoked ? new Date() : null,
  ]);
  return { id, key };
}

/** A small client of the admin API over real HTTP. */
export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly key?: string,
  ) {}

  withKey(key: string | undefined): AdminClient {
    return new AdminClient(this.baseUrl, key);
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(this.key ? { authorization: `Bearer ${this.key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    if (res.ok && res.headers.get('content-type')?.startsWith('text/event-stream')) {
      // A server-sent event stream never ends by itself: the status is the answer here.
      await res.body?.cancel();
      return { status: res.status, headers: res.headers, text: '', json: undefined as any };
    }
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  get(path: string) {
    return this.request('GET', path);
  }
}
