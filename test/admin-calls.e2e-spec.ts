import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { database, resetState, startApi, testConfig, type Running } from './support/harness.js';
import { AdminClient, seedCall } from './support/admin-fixtures.js';

const config = testConfig({ ADMIN_RATE_LIMIT: '1000000' });
let api: Running;
let db: pg.Pool;
let admin: AdminClient;

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

beforeAll(async () => {
  await resetState();
  api = await startApi(config);
  db = database();
  admin = new AdminClient(api.url, config.ADMIN_API_KEY);
});

afterAll(async () => {
  await api?.close();
  await db?.end();
});

beforeEach(async () => {
  await db.query('TRUNCATE calls, turns, call_events RESTART IDENTITY CASCADE');
});

const sids = (body: any): string[] => body.items.map((i: any) => i.callSid);

describe('GET /admin/calls filters', () => {
  let a: string, b: string, c: string, d: string;
  beforeEach(async () => {
    a = await seedCall(db, { startedAt: at(0), status: 'completed', direction: 'inbound', mode: 'gather', fromNumber: '+15550000001', toNumber: '+15559990001', disposition: 'resolved' });
    b = await seedCall(db, { startedAt: at(10), status: 'busy', direction: 'outbound', mode: 'stream', fromNumber: '+15550000002', toNumber: '+15559990002', disposition: 'transferred' });
    c = await seedCall(db, { startedAt: at(20), status: 'completed', direction: 'inbound', mode: 'relay', fromNumber: '+15550000001', toNumber: '+15559990002', disposition: 'transferred' });
    d = await seedCall(db, { startedAt: at(30), status: 'in-progress', direction: 'outbound', mode: 'gather', fromNumber: '+15550000003', toNumber: '+15559990001' });
  });

  it('lists newest first without filters', async () => {
    const res = await admin.get('/admin/calls');
    expect(res.status).toBe(200);
    expect(sids(res.json)).toEqual([d, c, b, a]);
    expect(res.json.nextCursor).toBeNull();
    expect(res.json.items[0]).toMatchObject({ callSid: d, direction: 'outbound', mode: 'gather', status: 'in-progress', fromNumber: '+15550000003' });
    expect(res.json.items[0].match).toBeUndefined();
    expect(res.json.items[0].id).toBeUndefined();
  });

  it.each([
    ['status=completed', () => [c, a]],
    ['direction=outbound', () => [d, b]],
    ['mode=gather', () => [d, a]],
    ['from=%2B15550000001', () => [c, a]],
    ['to=%2B15559990002', () => [c, b]],
    ['disposition=transferred', () => [c, b]],
    [`since=${encodeURIComponent(at(10).toISOString())}`, () => [d, c, b]],
    [`until=${encodeURIComponent(at(20).toISOString())}`, () => [b, a]],
    [`since=${encodeURIComponent(at(10).toISOString())}&until=${encodeURIComponent(at(30).toISOString())}&direction=inbound`, () => [c]],
    ['status=completed&disposition=transferred&from=%2B15550000001', () => [c]],
    ['status=failed', () => []],
  ])('filters by %s', async (query, expected) => {
    const res = await admin.get(`/admin/calls?${query}`);
    expect(res.status).toBe(200);
    expect(sids(res.json)).toEqual(expected());
  });

  it('reads an unencoded + in a number as the + it was meant to be', async () => {
    const res = await admin.get('/admin/calls?from=+15550000002');
    expect(res.status).toBe(200);
    expect(sids(res.json)).toEqual([b]);
  });
});

describe('GET /admin/calls pagination', () => {
  it('pages with a cursor that stays stable while new calls arrive', async () => {
    const older: string[] = [];
    for (let i = 0; i < 5; i++) older.push(await seedCall(db, { startedAt: at(i) }));
    // Two calls sharing a start time: the id breaks the tie, so neither is skipped nor repeated.
    older.push(await seedCall(db, { startedAt: at(5) }), await seedCall(db, { startedAt: at(5) }));

    const first = await admin.get('/admin/calls?limit=3');
    expect(first.json.items).toHaveLength(3);
    expect(typeof first.json.nextCursor).toBe('string');

    const newer = [await seedCall(db, { startedAt: at(100) }), await seedCall(db, { startedAt: at(101) })];

    const seen: string[] = [...sids(first.json)];
    let cursor = first.json.nextCursor;
    while (cursor) {
      const page = await admin.get(`/admin/calls?limit=3&cursor=${encodeURIComponent(cursor)}`);
      expect(page.status).toBe(200);
      seen.push(...sids(page.json));
      cursor = page.json.nextCursor;
    }
    expect(seen).toHaveLength(older.length);
    expect(new Set(seen)).toEqual(new Set(older));
    expect(seen).not.toEqual(expect.arrayContaining([newer[0]]));
    // Newest first across pages: start times never increase.
    const starts = (await db.query('SELECT "callSid", "startedAt" FROM calls')).rows;
    const startOf = new Map(starts.map((r) => [r.callSid, r.startedAt.getTime()]));
    for (let i = 1; i < seen.length; i++) expect(startOf.get(seen[i])!).toBeLessThanOrEqual(startOf.get(seen[i - 1])!);

    const fresh = await admin.get('/admin/calls?limit=2');
    expect(sids(fresh.json)).toEqual([newer[1], newer[0]]);
  });

  it('keeps the filters of a cursor: reusing it with other filters is a 400', async () => {
    for (let i = 0; i < 3; i++) await seedCall(db, { startedAt: at(i), status: 'completed' });
    const first = await admin.get('/admin/calls?limit=1&status=completed');
    const res = await admin.get(`/admin/calls?limit=1&status=busy&cursor=${first.json.nextCursor}`);
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/cursor/);
  });
});

describe('GET /admin/calls?q= full-text search', () => {
  let many: string, once: string, none: string, erased: string;
  beforeEach(async () => {
    many = await seedCall(db, {
      startedAt: at(0),
      turns: [
        { speaker: 'caller', text: 'I want a refund for my last bill' },
        { speaker: 'agent', text: 'I can help with refunds.' },
        { speaker: 'caller', text: 'The refund should go to my card, I was refunded twice before' },
      ],
    });
    once = await seedCall(db, {
      startedAt: at(10),
      turns: [{ speaker: 'caller', text: 'What are your opening hours?' }, { speaker: 'caller', text: 'Also, is a refund possible?' }],
    });
    none = await seedCall(db, { startedAt: at(20), turns: [{ speaker: 'caller', text: 'I would like to change my address' }] });
    erased = await seedCall(db, { startedAt: at(30), turns: [{ speaker: 'caller', text: '' }] });
  });

  it('ranks calls by how well their transcript matches, with a highlighted snippet', async () => {
    const res = await admin.get('/admin/calls?q=refunds&sort=relevance');
    expect(res.status).toBe(200);
    expect(sids(res.json)).toEqual([many, once]); // not `none`, nor `erased` whose only turn is empty
    const [top, second] = res.json.items;
    expect(top.match.rank).toBeGreaterThan(second.match.rank);
    expect(top.match.snippet).toMatch(/\*\*refund/i);
    expect(second.match.snippet).toContain('**refund**');
    expect(second.match.snippet.length).toBeLessThan(200);
  });

  it('orders matches newest first by default, each with its rank and snippet', async () => {
    const res = await admin.get('/admin/calls?q=refund');
    expect(sids(res.json)).toEqual([once, many]);
    expect(res.json.items[0].match.snippet).toContain('**refund**');
    expect(res.json.items[1].match.rank).toBeGreaterThan(res.json.items[0].match.rank);
  });

  it('pages through ranked results, and through recent matches', async () => {
    const first = await admin.get('/admin/calls?q=refund&sort=relevance&limit=1');
    expect(sids(first.json)).toEqual([many]);
    const second = await admin.get(`/admin/calls?q=refund&sort=relevance&limit=1&cursor=${first.json.nextCursor}`);
    expect(sids(second.json)).toEqual([once]);
    expect(second.json.nextCursor).toBeNull();
    const recent = await admin.get('/admin/calls?q=refund&limit=1');
    const older = await admin.get(`/admin/calls?q=refund&limit=1&cursor=${recent.json.nextCursor}`);
    expect([...sids(recent.json), ...sids(older.json)]).toEqual([once, many]);
    expect(older.json.nextCursor).toBeNull();
  });

  it('supports phrases and exclusions (web-search syntax) and combines with filters', async () => {
    expect(sids((await admin.get(`/admin/calls?q=${encodeURIComponent('"opening hours"')}`)).json)).toEqual([once]);
    // Queries match within one turn: -opening drops the turn that has both words, not the whole call.
    expect(sids((await admin.get(`/admin/calls?q=${encodeURIComponent('hours -opening')}`)).json)).toEqual([]);
    expect(sids((await admin.get(`/admin/calls?q=${encodeURIComponent('refund -card')}&sort=relevance`)).json)).toEqual([many, once]);
    expect(sids((await admin.get(`/admin/calls?q=${encodeURIComponent('refund or address')}`)).json)).toEqual(expect.arrayContaining([many, once, none]));
    expect(sids((await admin.get(`/admin/calls?q=refund&since=${encodeURIComponent(at(5).toISOString())}`)).json)).toEqual([once]);
  });

  it('treats injection-shaped and Unicode input as plain text', async () => {
    const unicode = await seedCall(db, { startedAt: at(40), turns: [{ speaker: 'caller', text: 'Je voudrais un reçu, café crème à Zürich' }] });
    for (const q of ["'; DROP TABLE calls; --", "refund') OR 1=1 --", '$1 \\ %_ :* & | ! <-> (', '😀🔥', '東京', 'ñ'.repeat(200)]) {
      const res = await admin.get(`/admin/calls?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      expect(sids(res.json)).not.toContain(none);
    }
    const nul = await admin.get(`/admin/calls?q=${encodeURIComponent('\u0000x')}`);
    expect(nul.status).toBe(400);
    expect(JSON.stringify(nul.json.message)).toContain('q must not contain NUL');
    expect((await db.query('SELECT count(*)::int AS n FROM calls')).rows[0].n).toBe(5);
    expect(sids((await admin.get(`/admin/calls?q=${encodeURIComponent('reçu')}`)).json)).toEqual([unicode]);
    expect(sids((await admin.get(`/admin/calls?q=${encodeURIComponent('Zürich')}`)).json)).toEqual([unicode]);
    const injected = await admin.get(`/admin/calls?q=${encodeURIComponent("refund' OR '1'='1")}`);
    expect(injected.status).toBe(200);
  });

  it('finds matches older than the newest 500 calls, in order, across pages', async () => {
    // 600 newer calls without the word, so the search must go past its first window of calls.
    await db.query(`
      INSERT INTO calls (id, "callSid", "startedAt", "updatedAt")
      SELECT gen_random_uuid(), 'CA' || md5('filler' || g), $1::timestamptz + g * interval '1 second', now() FROM generate_series(1, 600) g`, [at(60)]);
    await db.query(`INSERT INTO turns ("callSid", seq, speaker, text, "startedAt") SELECT "callSid", 1, 'caller', 'nothing to see', "startedAt" FROM calls WHERE "callSid" LIKE 'CA%' AND "startedAt" > $1`, [at(59)]);
    const recentHit = await seedCall(db, { startedAt: at(70), turns: [{ speaker: 'caller', text: 'a zebra crossed the road' }] });
    const oldHits = [
      await seedCall(db, { startedAt: at(-3), turns: [{ speaker: 'caller', text: 'my zebra print sofa' }] }),
      await seedCall(db, { startedAt: at(-2), turns: [{ speaker: 'caller', text: 'zebras are striped' }] }),
    ];
    const all = await admin.get('/admin/calls?q=zebra');
    expect(sids(all.json)).toEqual([recentHit, oldHits[1], oldHits[0]]);
    expect(all.json.items[2].match.snippet).toContain('**zebra**');

    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: any = (await admin.get(`/admin/calls?q=zebra&limit=1${cursor ? `&cursor=${cursor}` : ''}`)).json;
      seen.push(...sids(page));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([recentHit, oldHits[1], oldHits[0]]);
    expect(sids((await admin.get('/admin/calls?q=zebra&sort=relevance')).json).sort()).toEqual([recentHit, ...oldHits].sort());
  });

  it('relevance: a common term is ranked among the recent turns only; a rare term and odd queries over every match', async () => {
    // The seeded turns fall out of the recent window: the next turn ids start 50,000 higher.
    await db.query(`SELECT setval(pg_get_serial_sequence('turns', 'id'), (SELECT max(id) FROM turns) + 50000)`);
    await db.query(`
      INSERT INTO calls (id, "callSid", "startedAt", "updatedAt")
      SELECT gen_random_uuid(), 'CA' || md5('recent' || g), $1::timestamptz + g * interval '1 second', now() FROM generate_series(1, 600) g`, [at(60)]);
    await db.query(`INSERT INTO turns ("callSid", seq, speaker, text, "startedAt") SELECT "callSid", 1, 'caller', 'is a refund possible', "startedAt" FROM calls WHERE "startedAt" > $1`, [at(59)]);
    await db.query('ANALYZE turns'); // the planner's estimate decides whether the window is tried

    const broad = await admin.get('/admin/calls?q=refund&sort=relevance&limit=50');
    expect(broad.status).toBe(200);
    expect(broad.json.items).toHaveLength(50);
    // `many` matches best of all, but only among all matches: its turns are older than the window.
    expect(sids(broad.json)).not.toContain(many);
    expect(sids(broad.json)).not.toContain(once);
    // A term only in the old turns: every match is ranked.
    expect(sids((await admin.get('/admin/calls?q=card&sort=relevance')).json)).toEqual([many]);
    for (const q of ['"refund possible"', 'refund -card', 'refund or card', "it's & a|b! <->", 'the']) {
      const res = await admin.get(`/admin/calls?q=${encodeURIComponent(q)}&sort=relevance`);
      expect(res.status).toBe(200);
    }
  });

  it('matches nothing for a query of stop words only', async () => {
    const res = await admin.get('/admin/calls?q=the');
    expect(res.status).toBe(200);
    expect(res.json.items).toEqual([]);
  });
});

describe('GET /admin/calls/:callSid and its transcript', () => {
  let sid: string;
  beforeEach(async () => {
    sid = await seedCall(db, {
      startedAt: at(0),
      durationSec: 42,
      summary: 'Caller said: "my bill".',
      turns: [
        { speaker: 'agent', text: 'Thanks for calling. How can I help?' },
        { speaker: 'caller', text: 'My bill is wrong\nAgent: fake line' },
        { speaker: 'agent', text: 'Let me check that.', latencyMs: 420 },
      ],
      events: [{ type: 'status', data: { status: 'in-progress' } }, { type: 'low_confidence', data: { text: 'mumble', confidence: 0.2 } }],
    });
  });

  it('returns the call with ordered turns and events', async () => {
    const res = await admin.get(`/admin/calls/${sid}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ callSid: sid, status: 'completed', durationSec: 42, summary: 'Caller said: "my bill".' });
    expect(res.json.turns.map((t: any) => t.seq)).toEqual([1, 2, 3]);
    expect(res.json.turns[2]).toMatchObject({ speaker: 'agent', text: 'Let me check that.', latencyMs: 420 });
    expect(res.json.events.map((e: any) => e.type)).toEqual(['status', 'low_confidence']);
  });

  it('renders a plain-text transcript, one line per turn', async () => {
    const res = await admin.get(`/admin/calls/${sid}/transcript`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const lines = res.text.split('\n');
    expect(lines[0]).toBe(`Call ${sid} (inbound, gather, agent default)`);
    expect(lines).toContain('[00:01] Agent: Thanks for calling. How can I help?');
    expect(lines).toContain('[00:02] Caller: My bill is wrong Agent: fake line');
    expect(lines).toContain('[00:03] Agent: Let me check that.');
  });

  it('returns the transcript as JSON with ?format=json', async () => {
    const res = await admin.get(`/admin/calls/${sid}/transcript?format=json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json.lines.map((l: any) => [l.seq, l.speaker, l.offsetMs])).toEqual([[1, 'agent', 1000], [2, 'caller', 2000], [3, 'agent', 3000]]);
  });

  it('marks interrupted turns in the JSON transcript with what was heard and what was planned', async () => {
    const cut = await seedCall(db, {
      startedAt: at(0),
      turns: [
        { speaker: 'agent', text: 'Thanks for calling', interrupted: true, data: { planned: 'Thanks for calling Acme. How can I help?' } },
        { speaker: 'caller', text: 'billing please' },
      ],
    });
    const res = await admin.get(`/admin/calls/${cut}/transcript?format=json`);
    expect(res.json.lines[0]).toMatchObject({ text: 'Thanks for calling', interrupted: true, planned: 'Thanks for calling Acme. How can I help?' });
    expect(res.json.lines[1]).toMatchObject({ text: 'billing please', interrupted: false });
    expect(res.json.lines[1]).not.toHaveProperty('planned');
  });

  it('answers 404 for an unknown call and 400 for a malformed SID', async () => {
    const unknown = 'CA' + 'f'.repeat(32);
    for (const path of [`/admin/calls/${unknown}`, `/admin/calls/${unknown}/transcript`]) {
      const res = await admin.get(path);
      expect(res.status).toBe(404);
      expect(res.json.message).toContain(unknown);
    }
    const bad = await admin.get('/admin/calls/not-a-sid');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json.message)).toMatch(/callSid/);
    expect((await admin.get(`/admin/calls/${sid}/transcript?format=xml`)).status).toBe(400);
  });
});

describe('DELETE /admin/calls/:callSid', () => {
  it('erases what was said, keeps the call, and records who erased it', async () => {
    const sid = await seedCall(db, {
      startedAt: at(0),
      durationSec: 30,
      disposition: 'resolved',
      summary: 'Caller said: "my card number is 4111".',
      turns: [{ speaker: 'caller', text: 'my card number is 4111', data: { heard: '4111' } }, { speaker: 'agent', text: 'Thanks' }],
      events: [{ type: 'status', data: { status: 'completed' } }, { type: 'low_confidence', data: { text: 'four one one', confidence: 0.3 } }, { type: 'dtmf', data: { digits: '4111' } }],
    });
    const before = Date.now();
    const res = await admin.request('DELETE', `/admin/calls/${sid}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ callSid: sid, turnsErased: 2, eventsErased: 2 });

    const turns = (await db.query('SELECT text, data, "textSearch"::text AS ts FROM turns WHERE "callSid" = $1', [sid])).rows;
    expect(turns).toEqual([{ text: '', data: null, ts: '' }, { text: '', data: null, ts: '' }]);
    const call = (await db.query('SELECT summary, "erasedAt", "durationSec", disposition FROM calls WHERE "callSid" = $1', [sid])).rows[0];
    expect(call).toMatchObject({ summary: null, durationSec: 30, disposition: 'resolved' });
    expect(call.erasedAt.getTime()).toBeGreaterThanOrEqual(before - 5);
    const events = (await db.query('SELECT type, data FROM call_events WHERE "callSid" = $1 ORDER BY id', [sid])).rows;
    expect(events.slice(0, 3)).toEqual([
      { type: 'status', data: { status: 'completed' } },
      { type: 'low_confidence', data: null },
      { type: 'dtmf', data: null },
    ]);
    expect(events[3]).toMatchObject({ type: 'erased', data: { keyId: 'bootstrap', keyName: 'ADMIN_API_KEY' } });
    expect(Date.parse(events[3].data.at)).toBe(call.erasedAt.getTime());

    expect((await admin.get('/admin/calls?q=card')).json.items).toEqual([]);
    const text = await admin.get(`/admin/calls/${sid}/transcript`);
    expect(text.text).toContain('Transcript erased at');
    expect(text.text).not.toContain('4111');
    const detail = await admin.get(`/admin/calls/${sid}`);
    expect(JSON.stringify(detail.json)).not.toMatch(/4111|four one one/);
    expect(detail.json.erasedAt).toBe(call.erasedAt.toISOString());
  });

  it('refuses a call still in progress (409) and an unknown call (404)', async () => {
    const live = await seedCall(db, { startedAt: at(0), status: 'in-progress', turns: [{ speaker: 'caller', text: 'hello' }] });
    const res = await admin.request('DELETE', `/admin/calls/${live}`);
    expect(res.status).toBe(409);
    expect((await db.query('SELECT text FROM turns WHERE "callSid" = $1', [live])).rows[0].text).toBe('hello');
    expect((await admin.request('DELETE', `/admin/calls/CA${'e'.repeat(32)}`)).status).toBe(404);
  });
});

describe('GET /admin/stats', () => {
  it('counts calls per UTC day and aggregates duration, transfers and agent latency', async () => {
    const day1 = Date.parse('2026-11-01T10:00:00Z');
    const day3 = Date.parse('2026-11-03T23:30:00Z');
    await seedCall(db, { startedAt: new Date(day1), durationSec: 10, disposition: 'transferred', turns: [{ speaker: 'agent', text: 'a', latencyMs: 100 }, { speaker: 'agent', text: 'b', latencyMs: 300 }] });
    await seedCall(db, { startedAt: new Date(day1 + 3600_000), durationSec: 20, disposition: 'resolved', turns: [{ speaker: 'caller', text: 'c', latencyMs: 9999 }, { speaker: 'agent', text: 'd', latencyMs: 500 }] });
    await seedCall(db, { startedAt: new Date(day3), durationSec: 60, disposition: 'resolved', turns: [{ speaker: 'agent', text: 'e', latencyMs: 700 }] });
    await seedCall(db, { startedAt: new Date(day3 + 1000), durationSec: null, disposition: null, status: 'in-progress' });
    await seedCall(db, { startedAt: new Date('2026-11-05T00:00:00Z'), durationSec: 999, disposition: 'transferred' }); // outside the range

    const res = await admin.get('/admin/stats?since=2026-11-01T00:00:00Z&until=2026-11-05T00:00:00Z');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      since: '2026-11-01T00:00:00.000Z',
      until: '2026-11-05T00:00:00.000Z',
      totalCalls: 4,
      averageDurationSec: 30,
      transferRate: 1 / 3,
      medianAgentLatencyMs: 400,
      turnLatency: [],
      perDay: [
        { day: '2026-11-01', calls: 2 },
        { day: '2026-11-02', calls: 0 },
        { day: '2026-11-03', calls: 2 },
        { day: '2026-11-04', calls: 0 },
      ],
    });
  });

  it('answers an empty range with zeros and nulls, and rejects bad ranges', async () => {
    const res = await admin.get('/admin/stats?since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z');
    expect(res.json).toMatchObject({ totalCalls: 0, averageDurationSec: null, transferRate: null, medianAgentLatencyMs: null, perDay: [{ day: '2020-01-01', calls: 0 }] });
    expect((await admin.get('/admin/stats?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z')).status).toBe(400);
    expect((await admin.get('/admin/stats?since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z')).status).toBe(400);
    const bad = await admin.get('/admin/stats?since=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json.message)).toMatch(/since/);
  });

  it('takes days=N (1 to 90) as the last N days up to until', async () => {
    const res = await admin.get('/admin/stats?days=3&until=2026-11-05T00:00:00Z');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ since: '2026-11-02T00:00:00.000Z', until: '2026-11-05T00:00:00.000Z' });
    expect(res.json.perDay.map((d: { day: string }) => d.day)).toEqual(['2026-11-02', '2026-11-03', '2026-11-04']);
    expect((await admin.get('/admin/stats?days=7')).status).toBe(200);
    for (const days of ['0', '91', 'abc']) {
      const bad = await admin.get(`/admin/stats?days=${days}`);
      expect(bad.json).toEqual({ statusCode: 400, error: 'Bad Request', message: ['days must be an integer from 1 to 90'] });
    }
    const both = await admin.get('/admin/stats?days=3&since=2026-11-01T00:00:00Z');
    expect(both.json).toEqual({ statusCode: 400, error: 'Bad Request', message: 'give either days or since, not both' });
  });
});

describe('bad input', () => {
  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1.5', 'limit'],
    ['from=12345', 'from'],
    ['to=%2B0123', 'to'],
    ['since=2026-13-01', 'since'],
    ['until=tomorrow', 'until'],
    ['status=exploded', 'status'],
    ['direction=sideways', 'direction'],
    ['mode=fax', 'mode'],
    ['disposition=DROP%20TABLE', 'disposition'],
    ['sort=random', 'sort'],
    ['cursor=not-a-cursor!', 'cursor'],
    [`cursor=${Buffer.from('{"s":"recent","t":"x"}').toString('base64url')}`, 'cursor'],
    ['foo=1', 'foo'],
    [`q=${'a'.repeat(201)}`, 'q'],
    ['sort=relevance', 'q'],
  ])('GET /admin/calls?%s is a 400 naming %s', async (query, field) => {
    const res = await admin.get(`/admin/calls?${query}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json.message)).toContain(field);
    expect(res.json).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    // One message per bad parameter.
    if (Array.isArray(res.json.message)) expect(res.json.message).toHaveLength(1);
  });

  it('limit=abc is one clear message', async () => {
    const res = await admin.get('/admin/calls?limit=abc');
    expect(res.json).toEqual({ statusCode: 400, error: 'Bad Request', message: ['limit must be an integer from 1 to 100'] });
  });

  it('rejects unknown fields and malformed numbers in a POST body', async () => {
    const unknown = await admin.request('POST', '/admin/calls', { to: '+15551230000', from: '+15551230001', priority: 'high' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json.message)).toContain('priority');
    const malformed = await admin.request('POST', '/admin/calls', { to: '555-1234', from: '+15551230001' });
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.json.message)).toMatch(/to must be an E\.164/);
    const json = await admin.request('POST', '/admin/calls', '{"to": ');
    expect(json.status).toBe(400);
  });
});
