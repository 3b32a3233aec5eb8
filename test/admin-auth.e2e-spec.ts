import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { callParams, database, FakeTwilio, newCallSid, redis, resetState, startApi, testConfig, waitFor, type Running } from './support/harness.js';
import { AdminClient, createKey, seedCall } from './support/admin-fixtures.js';

const run = promisify(execFile);
const config = testConfig({ ADMIN_RATE_LIMIT: '1000000' });
let api: Running;
let db: pg.Pool;
let r: Redis;
let anonymous: AdminClient;
let callSid: string;

/** Scope each admin route needs. A route missing here fails the enumeration test on purpose. */
const EXPECTED_SCOPE: Record<string, 'read' | 'write' | 'admin'> = {
  'GET /admin/calls': 'read',
  'GET /admin/calls/:callSid': 'read',
  'GET /admin/calls/:callSid/transcript': 'read',
  'POST /admin/calls': 'write',
  'DELETE /admin/calls/:callSid': 'admin',
  'GET /admin/live': 'read',
  'GET /admin/stats': 'read',
  'GET /admin/keys': 'admin',
  'POST /admin/keys': 'admin',
  'DELETE /admin/keys/:id': 'admin',
  'GET /admin/live/events': 'read',
  'GET /admin/stats/breakdown': 'read',
  'GET /admin/audit': 'admin',
};

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route registered on the Express router (the app as it really serves requests). */
function registeredRoutes(app: Running['app']): { method: string; path: string }[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } };
  return express.router.stack.flatMap((layer) =>
    layer.route ? Object.keys(layer.route.methods).filter((m) => m !== '_all').map((m) => ({ method: m.toUpperCase(), path: layer.route!.path })) : [],
  );
}

beforeAll(async () => {
  await resetState();
  api = await startApi(config);
  db = database();
  r = redis();
  anonymous = new AdminClient(api.url);
  callSid = await seedCall(db, { startedAt: new Date(), status: 'completed', turns: [{ speaker: 'caller', text: 'hello' }] });
});

afterAll(async () => {
  await api?.close();
  await db?.end();
  r?.disconnect();
});

const routes = () => registeredRoutes(api.app).filter((route) => route.path.startsWith('/admin'));

function concrete(path: string): string {
  return path.replace(':callSid', callSid).replace(':id', '00000000-0000-4000-8000-000000000000');
}

describe('every admin route is protected', () => {
  it('registers exactly the admin routes of the scope table', () => {
    const found = routes().map((route) => `${route.method} ${route.path}`).sort();
    expect(found).toEqual(Object.keys(EXPECTED_SCOPE).sort());
  });

  it('refuses requests without a key, with a malformed header, an unknown key or a revoked key (401)', async () => {
    const revoked = await createKey(db, 'revoked', ['read', 'write', 'admin'], true);
    const clients: [string, AdminClient][] = [
      ['no key', anonymous],
      ['unknown key', anonymous.withKey('sbk_' + 'x'.repeat(43))],
      ['revoked key', anonymous.withKey(revoked.key)],
    ];
    for (const { method, path } of routes()) {
      for (const [label, client] of clients) {
        const res = await client.request(method, concrete(path), method === 'POST' ? {} : undefined);
        expect(`${label} ${method} ${path} -> ${res.status}`).toBe(`${label} ${method} ${path} -> 401`);
      }
      const basic = await anonymous.request(method, concrete(path), undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
      expect(basic.status).toBe(401);
      const lowercase = await anonymous.request(method, concrete(path), undefined, { authorization: `bearer ${config.ADMIN_API_KEY}` });
      expect(lowercase.status).toBe(401);
    }
  });

  it('refuses a key without the route scope (403) and lets one with it through', async () => {
    for (const { method, path } of routes()) {
      const needed = EXPECTED_SCOPE[`${method} ${path}`];
      const others = (['read', 'write', 'admin'] as const).filter((s) => s !== needed);
      const wrong = await createKey(db, `without-${needed}`, [...others]);
      const right = await createKey(db, `only-${needed}`, [needed]);
      const denied = await anonymous.withKey(wrong.key).request(method, concrete(path), method === 'POST' ? {} : undefined);
      expect(`${method} ${path} -> ${denied.status}`).toBe(`${method} ${path} -> 403`);
      expect(denied.json.message).toContain(needed);
      const allowed = await anonymous.withKey(right.key).request(method, concrete(path), method === 'POST' ? {} : undefined);
      expect([401, 403]).not.toContain(allowed.status);
    }
  });

  it('records when a stored key was last used, without storing the key', async () => {
    const key = await createKey(db, 'usage', ['read']);
    expect((await anonymous.withKey(key.key).get('/admin/live')).status).toBe(200);
    // The use is recorded off the request path.
    const row = await waitFor(async () => {
      const found = (await db.query('SELECT "lastUsedAt", hash FROM api_keys WHERE id = $1', [key.id])).rows[0];
      return found.lastUsedAt && found;
    });
    expect(row.lastUsedAt).toBeInstanceOf(Date);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.hash).not.toContain(key.key);
  });
});

describe('key management', () => {
  it('creates a key over the API, shows it once, lists it without the secret, and revokes it', async () => {
    const admin = anonymous.withKey(config.ADMIN_API_KEY);
    const created = await admin.request('POST', '/admin/keys', { name: 'dashboard', scopes: ['read'] });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatch(/^sbk_[A-Za-z0-9_-]{43}$/);
    const key = anonymous.withKey(created.json.key);
    expect((await key.get('/admin/calls')).status).toBe(200);
    expect((await key.get('/admin/keys')).status).toBe(403);

    const listed = await admin.get('/admin/keys');
    const entry = listed.json.find((k: any) => k.id === created.json.id);
    expect(entry).toMatchObject({ name: 'dashboard', scopes: ['read'], revokedAt: null, prefix: created.json.key.slice(0, 12) });
    expect(JSON.stringify(listed.json)).not.toContain(created.json.key);

    expect((await admin.request('DELETE', `/admin/keys/${created.json.id}`)).status).toBe(200);
    expect((await key.get('/admin/calls')).status).toBe(401);
    expect((await admin.request('DELETE', '/admin/keys/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const bad = await admin.request('POST', '/admin/keys', { name: 'x', scopes: ['root'] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json.message)).toContain('scopes');
  });

  it('creates, lists and revokes keys with the CLI', async () => {
    const env = { ...process.env, NODE_OPTIONS: '--conditions=development', DATABASE_URL: process.env.DATABASE_URL! };
    const tsx = 'node_modules/.bin/tsx';
    const created = await run(tsx, ['scripts/cli.ts', 'apikey', 'create', '--name', 'ops-cli', '--scope', 'read,write'], { env });
    const key = /^(sbk_[A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    const client = anonymous.withKey(key!);
    expect((await client.get('/admin/calls')).status).toBe(200);

    const listed = await run(tsx, ['scripts/cli.ts', 'apikey', 'list'], { env });
    expect(listed.stdout).toContain('ops-cli');
    expect(listed.stdout).toContain('read,write');
    expect(listed.stdout).not.toContain(key!);

    await run(tsx, ['scripts/cli.ts', 'apikey', 'revoke', key!.slice(0, 12)], { env });
    expect((await client.get('/admin/calls')).status).toBe(401);

    await expect(run(tsx, ['scripts/cli.ts', 'apikey', 'create', '--name', 'x', '--scope', 'root'], { env })).rejects.toMatchObject({ code: 2 });
  }, 60_000);
});

describe('rate limit', () => {
  let limited: Running;
  beforeAll(async () => {
    limited = await startApi(testConfig({ ADMIN_RATE_LIMIT: '3', ADMIN_RATE_WINDOW_SECONDS: '60' }));
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('answers 429 with Retry-After once a key used its budget, per key', async () => {
    const one = await createKey(db, 'limited-one', ['read']);
    const two = await createKey(db, 'limited-two', ['read']);
    const client = new AdminClient(limited.url, one.key);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await client.get('/admin/live')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await client.get('/admin/live');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.json.statusCode).toBe(429);
    expect((await new AdminClient(limited.url, two.key).get('/admin/live')).status).toBe(200);
  });

  it('never limits Twilio webhooks', async () => {
    const twilio = new FakeTwilio(limited.url, testConfig());
    const countersBefore = (await r.keys('ratelimit:*')).sort();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const sid = newCallSid();
      statuses.push((await twilio.post('/twilio/status', { ...callParams(sid, testConfig()), CallStatus: 'ringing', SequenceNumber: '0' })).status);
    }
    expect(statuses).toEqual(Array(10).fill(204));
    // Nothing was counted for them either.
    expect((await r.keys('ratelimit:*')).sort()).toEqual(countersBefore);
  });
});
