import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import type pg from 'pg';
import { bullConnectionOptions } from '#libs/redis';
import { QueueName } from '#libs/queues';
import { RetentionService } from '../apps/worker/src/retention/retention.service.js';
import { AdminClient, createKey, seedCall } from './support/admin-fixtures.js';
import { database, resetState, startApi, startWorker, testConfig, waitFor, type Running } from './support/harness.js';

const config = testConfig({ ADMIN_RATE_LIMIT: '1000000', TRANSCRIPT_RETENTION_DAYS: '30' });
const DAY = 86_400_000;
let api: Running;
let worker: Running;
let db: pg.Pool;
let admin: AdminClient;
let reader: AdminClient;
let readKeyId: string;

beforeAll(async () => {
  await resetState();
  db = database();
  api = await startApi(config);
  worker = await startWorker(config);
  admin = new AdminClient(api.url, config.ADMIN_API_KEY);
  const read = await createKey(db, 'ops-reader', ['read']);
  readKeyId = read.id;
  reader = admin.withKey(read.key);
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await api?.close();
  await db?.end();
});

const turns = [
  { speaker: 'caller' as const, text: 'I want a refund for order 12345' },
  { speaker: 'agent' as const, text: 'Let me help with that refund.' },
];

const auditOf = async (callSid: string) =>
  (await db.query('SELECT action, "keyId", "keyName", route FROM audit_events WHERE "callSid" = $1 ORDER BY id', [callSid])).rows;

describe('transcript retention (TRANSCRIPT_RETENTION_DAYS)', () => {
  it('is scheduled on the worker as a repeatable job, whose first run comes at once', async () => {
    const queue = new Queue(QueueName.CallLifecycle, { connection: bullConnectionOptions(config.REDIS_URL), prefix: 'sb' });
    try {
      const scheduler = await queue.getJobScheduler('transcript-retention');
      expect(scheduler).toMatchObject({ every: 3_600_000 });
      // Waiting for it also keeps that run from racing the explicit runs below.
      const done = await waitFor(async () => (await queue.getCompleted()).find((j) => j.name === 'transcript-retention'), 20_000);
      expect(done.returnvalue).toEqual({ erased: 0, skipped: 0 });
    } finally {
      await queue.close();
    }
  });

  it('erases ended calls past the horizon in bounded batches, with an audit entry each, and is idempotent', async () => {
    const now = Date.now();
    const old = await Promise.all(
      [40, 35, 31].map((d) => seedCall(db, { startedAt: new Date(now - d * DAY), durationSec: 60, summary: 'Refund for order 12345', turns })),
    );
    const openOld = await seedCall(db, { startedAt: new Date(now - 40 * DAY), status: 'in-progress', turns });
    const recent = await seedCall(db, { startedAt: new Date(now - 29 * DAY), durationSec: 60, turns });

    const retention = worker.app.get(RetentionService);
    const first = await retention.run(new Date(now), { batch: 2, max: 100 });
    expect(first).toEqual({ erased: 3, skipped: 0 });

    for (const sid of old) {
      const { rows } = await db.query('SELECT text FROM turns WHERE "callSid" = $1', [sid]);
      expect(rows.map((r) => r.text)).toEqual(['', '']);
      const call = (await db.query('SELECT summary, "erasedAt" FROM calls WHERE "callSid" = $1', [sid])).rows[0];
      expect(call.summary).toBeNull();
      expect(call.erasedAt).toBeInstanceOf(Date);
      expect(await auditOf(sid)).toEqual([
        { action: 'retention_erase', keyId: 'retention', keyName: 'TRANSCRIPT_RETENTION_DAYS', route: 'job transcript-retention (30 days)' },
      ]);
      const erased = (await db.query(`SELECT data FROM call_events WHERE "callSid" = $1 AND type = 'erased'`, [sid])).rows;
      expect(erased).toHaveLength(1);
    }
    for (const sid of [openOld, recent]) {
      const { rows } = await db.query('SELECT text FROM turns WHERE "callSid" = $1 ORDER BY seq', [sid]);
      expect(rows[0].text).toBe('I want a refund for order 12345');
      expect(await auditOf(sid)).toEqual([]);
    }

    // A second run (or another worker) finds nothing and writes nothing.
    expect(await retention.run(new Date(now), { batch: 2, max: 100 })).toEqual({ erased: 0, skipped: 0 });
    expect(await auditOf(old[0])).toHaveLength(1);

    // The per-run bound: a backlog drains over several runs.
    const more = await Promise.all([50, 51, 52].map((d) => seedCall(db, { startedAt: new Date(now - d * DAY), durationSec: 5, turns })));
    expect(await retention.run(new Date(now), { batch: 1, max: 2 })).toEqual({ erased: 2, skipped: 0 });
    expect(await retention.run(new Date(now), { batch: 1, max: 2 })).toEqual({ erased: 1, skipped: 0 });
    for (const sid of more) expect(await auditOf(sid)).toHaveLength(1);
  });
});

describe('audit of transcript reads', () => {
  it('records every read of a call or transcript with the key and route; GET /admin/audit lists them (admin only, paged)', async () => {
    const sid = await seedCall(db, { startedAt: new Date(), durationSec: 10, turns });
    expect((await reader.get(`/admin/calls/${sid}`)).status).toBe(200);
    expect((await reader.get(`/admin/calls/${sid}/transcript?format=json`)).status).toBe(200);
    expect((await reader.get(`/admin/calls/${sid}/transcript`)).status).toBe(200);
    // Failed reads leave nothing; listings are not transcript reads.
    expect((await reader.get(`/admin/calls/CA${'0'.repeat(32)}`)).status).toBe(404);
    expect((await reader.get('/admin/calls?q=refund')).status).toBe(200);

    expect(await auditOf(sid)).toEqual([
      { action: 'read_call', keyId: readKeyId, keyName: 'ops-reader', route: `GET /admin/calls/${sid}` },
      { action: 'read_transcript', keyId: readKeyId, keyName: 'ops-reader', route: `GET /admin/calls/${sid}/transcript` },
      { action: 'read_transcript', keyId: readKeyId, keyName: 'ops-reader', route: `GET /admin/calls/${sid}/transcript` },
    ]);
    expect(await auditOf(`CA${'0'.repeat(32)}`)).toEqual([]);

    expect((await reader.get('/admin/audit')).status).toBe(403);
    const erased = await admin.request('DELETE', `/admin/calls/${sid}`);
    expect(erased.status).toBe(200);
    expect((await auditOf(sid)).at(-1)).toMatchObject({ action: 'erase', route: `DELETE /admin/calls/${sid}` });

    const page1 = await admin.get(`/admin/audit?callSid=${sid}&limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.json.items.map((e: any) => e.action)).toEqual(['erase', 'read_transcript']);
    expect(page1.json.items[0]).toMatchObject({ callSid: sid, route: `DELETE /admin/calls/${sid}` });
    const page2 = await admin.get(`/admin/audit?callSid=${sid}&limit=2&cursor=${page1.json.nextCursor}`);
    expect(page2.json.items.map((e: any) => e.action)).toEqual(['read_transcript', 'read_call']);
    expect(page2.json.nextCursor).toBeNull();
    expect((await admin.get('/admin/audit?cursor=bad!')).status).toBe(400);
  });
});
