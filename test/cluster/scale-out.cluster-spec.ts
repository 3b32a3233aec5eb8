import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { signTwilioRequest } from '#libs/telephony';
import { database, resetState } from '../support/harness.js';
import { CaddyProxy, freePort, health, healthStatus, Proc, until } from '../support/cluster.js';
import { ensureBuilt } from '../support/worker-pool.js';

/**
 * Scale-out on a bare machine: Debian's caddy running deploy/Caddyfile (TLS, local CA) on
 * loopback in front of 2 api processes and 3 worker processes, all built as in production.
 * Gather, relay and stream calls go through the proxy (signed over its https URL) while one api
 * and one worker are SIGKILLed and restarted.
 */
const AUTH_TOKEN = process.env.TWILIO_AUTH_TOKEN!;
const ACCOUNT_SID = process.env.TWILIO_ACCOUNT_SID!;
const caddy = new CaddyProxy();
let db: pg.Pool;

interface Member {
  name: string;
  kind: 'api' | 'worker';
  port: number;
  proc?: Proc;
  /** Ever answered ready since its last (re)start. */
  wasReady: boolean;
  /** Output of earlier runs (before a restart). */
  earlier: string[];
}
const members: Member[] = [];

function env(member: Member): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    // apis log each request (info), which shows that both served Twilio.
    LOG_LEVEL: member.kind === 'api' ? 'info' : 'warn',
    PUBLIC_BASE_URL: caddy.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
    AGENTS_FILE: resolve('config/agents.json'),
    TURN_WAIT_MS: '6000',
    // The api's health port is its only port; the worker's is WORKER_PORT.
    PORT: member.kind === 'api' ? String(member.port) : '0',
    WORKER_PORT: member.kind === 'worker' ? String(member.port) : '0',
    SHUTDOWN_TIMEOUT_MS: '3000',
  };
}

async function start(member: Member): Promise<void> {
  member.wasReady = false;
  if (member.proc) member.earlier.push(...member.proc.output);
  member.proc = Proc.start(member.name, process.execPath, [resolve(`dist/apps/${member.kind}/src/main.js`)], env(member));
  let last = { status: 0, body: '' };
  try {
    await until(`${member.name} ready`, async () => {
      if (!member.proc!.alive) throw new Error(`${member.name} exited: ${member.proc!.tail()}`);
      last = await health(`http://127.0.0.1:${member.port}/health/ready`);
      return last.status === 200;
    }, 60_000, 200);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last answer ${last.status} ${last.body.slice(0, 300)}; output: ${member.proc!.tail(10)}`);
  }
  member.wasReady = true;
}

beforeAll(async () => {
  ensureBuilt();
  await resetState();
  db = database();
  for (const [kind, n] of [['api', 2], ['worker', 3]] as const) {
    for (let i = 1; i <= n; i++) members.push({ name: `${kind}${i}`, kind, port: await freePort(), wasReady: false, earlier: [] });
  }
  await caddy.start(members.filter((m) => m.kind === 'api').map((m) => `127.0.0.1:${m.port}`));
  await Promise.all(members.map(start));
  // Caddy's active health checks (every 2 s) saw the apis refuse before they listened: wait
  // until its log says every one of them is up, or the first requests meet "no upstreams".
  await until('caddy counts both apis up', async () => {
    const log = caddy.tail(500);
    return members.filter((m) => m.kind === 'api').every((m) => log.includes(`"msg":"host is up","host":"127.0.0.1:${m.port}"`));
  }, 30_000, 250);
}, 180_000);

afterAll(async () => {
  await Promise.all(members.map((m) => m.proc?.kill('SIGTERM')));
  await caddy.stop();
  await db?.end();
}, 60_000);

/** HTTPS through the proxy, trusting only its local CA. */
function viaProxy(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolveIt, reject) => {
    const req = httpsRequest(caddy.url + path, { method: init.method ?? 'GET', headers: init.headers, ca: readFileSync(caddy.rootCert) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveIt({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('2 apis + 3 workers behind the TLS proxy', () => {
  it('serves the admin API, /docs and signed webhooks through the proxy; forged X-Forwarded-* never reach the apps', async () => {
    expect((await viaProxy('/admin/calls')).status).toBe(401);
    expect((await viaProxy('/admin/calls', { headers: { authorization: `Bearer ${process.env.ADMIN_API_KEY}` } })).status).toBe(401); // bootstrap key is not set on these processes
    expect((await viaProxy('/docs')).status).toBeLessThan(400);
    const params = { CallSid: 'CA' + 'e'.repeat(32), AccountSid: ACCOUNT_SID, From: '+15005550006', To: '+15005550001', CallStatus: 'ringing', Direction: 'inbound' };
    const body = new URLSearchParams(params).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(AUTH_TOKEN, `${caddy.url}/twilio/voice`, params) };
    const ok = await viaProxy('/twilio/voice', { method: 'POST', headers, body });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<Gather');
    // Many requests in a row, none rate-limited at the proxy.
    const burst = await Promise.all(Array.from({ length: 30 }, () => viaProxy('/twilio/voice', { method: 'POST', headers: { ...headers, 'x-twilio-signature': 'forged' }, body })));
    expect(new Set(burst.map((r) => r.status))).toEqual(new Set([403]));

    // What the proxy sends upstream: its own X-Forwarded-*, whatever the client claimed.
    const seen: Record<string, string | string[] | undefined>[] = [];
    const echo: Server = createServer((req, res) => (seen.push(req.headers), res.end('ok')));
    const echoPort = await freePort();
    await new Promise<void>((r) => echo.listen(echoPort, '127.0.0.1', r));
    const probe = new CaddyProxy();
    try {
      await probe.start([`127.0.0.1:${echoPort}`]);
      await new Promise<void>((resolveIt, reject) => {
        const req = httpsRequest(`${probe.url}/twilio/status`, {
          method: 'POST',
          ca: readFileSync(probe.rootCert),
          headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', 'x-forwarded-for': '6.6.6.6' },
        }, (res) => (res.resume(), res.on('end', resolveIt)));
        req.on('error', reject);
        req.end('x=1');
      });
      const last = seen.findLast((h) => h['x-forwarded-host'] !== undefined)!;
      expect(last['x-forwarded-host']).toBe(`localhost:${probe.port}`);
      expect(last['x-forwarded-proto']).toBe('https');
      expect(last['x-forwarded-for']).toBe('127.0.0.1');
    } finally {
      await probe.stop();
      echo.close();
    }
  }, 60_000);

  it('gather, relay and stream calls over both apis survive one api and one worker being SIGKILLed', async () => {
    // Readiness of every process, every 250 ms, for the whole run.
    const samples: { name: string; alive: boolean; wasReady: boolean; status: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await Promise.all(members.map(async (m) => {
          const proc = m.proc;
          const before = { alive: proc?.alive ?? false, wasReady: m.wasReady };
          const status = await healthStatus(`http://127.0.0.1:${m.port}/health/ready`, 5000);
          // Killed or restarted while we asked: the sample says nothing about truthfulness.
          const steady = m.proc === proc && (proc?.alive ?? false) === before.alive && m.wasReady === before.wasReady;
          if (steady) samples.push({ name: m.name, alive: before.alive, wasReady: before.wasReady, status });
        }));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const driver = spawn(process.execPath, ['--conditions=development', 'node_modules/tsx/dist/cli.mjs', 'test/cluster/drive-calls.ts', JSON.stringify({
      url: caddy.url, authToken: AUTH_TOKEN, accountSid: ACCOUNT_SID, gather: 6, relay: 2, stream: 1, pauseMs: 400,
    })], { env: { ...process.env, NODE_EXTRA_CA_CERTS: caddy.rootCert, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let turns = 0;
    driver.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      turns = (out.match(/"turn":/g) ?? []).length;
    });
    driver.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const driverDone = new Promise<number | null>((r) => driver.once('exit', r));

    // Mid-run: kill one api and one worker without warning, then bring them back.
    await until('calls under way', async () => turns >= 12, 90_000, 50);
    const api1 = members.find((m) => m.name === 'api1')!;
    const worker1 = members.find((m) => m.name === 'worker1')!;
    api1.wasReady = false;
    worker1.wasReady = false;
    api1.proc!.child.kill('SIGKILL');
    worker1.proc!.child.kill('SIGKILL');
    await Promise.all([api1.proc!.exited, worker1.proc!.exited]);
    await new Promise((r) => setTimeout(r, 1500));
    await Promise.all([start(api1), start(worker1)]);

    const exit = await driverDone;
    if (exit !== 0) throw new Error(`driver exited with ${exit}:\n${out.slice(-3000)}\n${err.slice(-3000)}\ncaddy:\n${caddy.tail()}`);
    sampling = false;
    await sampler;
    const done = JSON.parse(out.trim().split('\n').at(-1)!).done as Array<Record<string, any>>;
    if (!done) throw new Error(`driver output: ${out}\n${err}`);

    const summary = done.map((c) => `${c.mode}:${c.outcome}${c.failures?.length ? `(${c.failures.join(', ')})` : ''}${c.error ? `(${c.error})` : ''}`).join(' ');
    process.stdout.write(`[scale-out] ${summary}\n`);
    // Every call completes, or degrades gracefully (Twilio's fallback URL, a relay re-offer).
    const gathers = done.filter((c) => c.mode === 'gather');
    expect(gathers).toHaveLength(6);
    for (const call of gathers) expect(['hangup', 'transfer', 'fallback']).toContain(call.outcome);
    // A webhook in flight on the killed api gets a 502 from the proxy and Twilio turns to the
    // fallback URL (answered by the surviving api); calls that were between webhooks go on.
    expect(gathers.filter((c) => c.outcome !== 'fallback').length).toBeGreaterThanOrEqual(2);
    for (const call of gathers.filter((c) => c.outcome === 'fallback')) expect(call.failures.every((f: string) => / → (502|0)$/.test(f))).toBe(true);
    for (const call of done.filter((c) => c.mode !== 'gather')) expect({ sid: call.callSid, outcome: call.outcome }).toEqual({ sid: call.callSid, outcome: expect.stringMatching(/^(completed|degraded)$/) });

    // Both apis served the calls' webhooks and sockets (round robin through the proxy).
    for (const m of members.filter((x) => x.kind === 'api')) {
      const log = [...m.earlier, ...m.proc!.output].join('');
      expect({ api: m.name, gather: log.includes('/twilio/gather'), voice: log.includes('/twilio/voice') }).toEqual({ api: m.name, gather: true, voice: true });
    }

    // Every spoken turn stored exactly once: accepted utterances once, failed ones at most once.
    for (const call of gathers) {
      const stored = await until(`turns of ${call.callSid}`, async () => {
        const { rows } = await db.query('SELECT text FROM turns WHERE "callSid" = $1 AND speaker = $2 ORDER BY seq', [call.callSid, 'caller']);
        const texts = rows.map((r) => r.text as string);
        return (call.spoken as string[]).every((t) => texts.includes(t)) && texts;
      }, 30_000);
      for (const text of new Set(stored)) {
        const times = stored.filter((t) => t === text).length;
        expect({ call: call.callSid, text, times }).toEqual({ call: call.callSid, text, times: 1 });
      }
    }
    for (const call of done.filter((c) => c.mode === 'relay')) {
      const { rows } = await db.query('SELECT text, count(*)::int AS n FROM turns WHERE "callSid" = $1 AND speaker = $2 GROUP BY text', [call.callSid, 'caller']);
      for (const row of rows) expect({ call: call.callSid, text: row.text, n: row.n }).toEqual({ call: call.callSid, text: row.text, n: 1 });
    }
    const { rows: dupes } = await db.query(`SELECT "callSid", seq FROM turns GROUP BY "callSid", seq HAVING count(*) > 1`);
    expect(dupes).toEqual([]);

    // /health/ready told the truth: a live process that had been ready stayed ready (the others
    // carried the load), a killed one did not answer, and both came back ready.
    // (A live process too slow to answer within 5 s on a loaded machine is not a lie: status 0.)
    const lies = samples.filter((s) => s.alive && s.wasReady && s.status !== 200 && s.status !== 0);
    expect(lies).toEqual([]);
    expect(samples.filter((s) => s.alive && s.wasReady).length).toBeGreaterThan(40);
    expect(samples.filter((s) => s.alive && s.wasReady && s.status === 200).length / samples.filter((s) => s.alive && s.wasReady).length).toBeGreaterThan(0.9);
    expect(samples.some((s) => s.name === 'api1' && !s.alive && s.status === 0)).toBe(true);
    for (const m of members) expect(await healthStatus(`http://127.0.0.1:${m.port}/health/ready`)).toBe(200);
  }, 240_000);
});
