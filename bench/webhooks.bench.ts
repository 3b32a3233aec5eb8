/**
 * npm run bench:webhooks — signed /twilio/voice and /twilio/gather throughput and latency of the
 * real api (+ 1 worker, Redis, Postgres, local agent) against a bare Express handler returning
 * the same TwiML, measured in the same run (the machine is shared and noisy: compare ratios).
 *
 * Two loads per target: a fixed 200 requests/s, sent open-loop at even 5 ms intervals with
 * latency measured from each request's scheduled time (no coordinated omission; autocannon's
 * rate limit sends in bursts, which measures the bursts), and autocannon with an open throttle
 * (maximum throughput). Every request is a distinct call or a distinct turn.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { readFileSync, readdirSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { loadConfig } from '#libs/config';
import { MetricsService } from '#libs/metrics';
import { RedisKeys } from '#libs/redis';
import { signTwilioRequest } from '#libs/telephony';
import { Redis } from 'ioredis';
import { freePort, machine, startProcess, stopProcess } from './support.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
/** Connections of the maximum-throughput load (the measurements used 50). */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** Where the built apps are (`dist/` below it): another checkout's build, to compare versions in one run. */
/** Extra node flags of the api process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it under this load. */
const API_NODE_ARGS = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
const APP_ROOT = process.env.BENCH_APP_ROOT ? `${process.env.BENCH_APP_ROOT.replace(/\/$/, '')}/` : '';
const config = loadConfig();
const env = {
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
};

/** `pids`: the processes serving this target, by role, whose CPU time a max load accounts for. */
type Target = { name: string; url: string; pids?: () => Promise<Record<string, number[]>> };
type Row = { target: string; route: string; load: string; rps: number; p50: number; p99: number; errors: number; cpu?: Record<string, number> };

/** CPU time (user + system, ms) used so far by each of `pids` together (Linux clock ticks of 10 ms). */
function cpuOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10;
}

/** `pid` and every process below it. */
function descendants(pid: number): number[] {
  const children = childrenByParent();
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  return children;
}

/** Postgres (the postmaster and every backend) and Redis serving the bench's URLs. */
async function storePids(): Promise<Record<string, number[]>> {
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  const info = await redis.info('server').finally(() => redis.disconnect());
  const redisPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  const pgPort = new URL(config.DATABASE_URL).port;
  let postmaster: number | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/\(postgres\)/.test(readFileSync(`/proc/${entry}/stat`, 'utf8')) && readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(pgPort)) {
        postmaster = Number(entry);
        break;
      }
    } catch {
      // gone
    }
  }
  // Backends come and go (the pools keep theirs): the set is read before each load.
  return { redis: [redisPid], postgres: postmaster ? descendants(postmaster) : [] };
}

function sid(): string {
  return `CA${randomBytes(16).toString('hex')}`;
}

function params(callSid: string, extra: Record<string, string> = {}) {
  return {
    CallSid: callSid,
    AccountSid: config.TWILIO_ACCOUNT_SID,
    From: '+15005550006',
    To: '+15005550001',
    CallStatus: 'in-progress',
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
    ...extra,
  };
}

function signed(path: string, body: Record<string, string>) {
  return {
    method: 'POST' as const,
    path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signTwilioRequest(config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL + path, body),
    },
    body: new URLSearchParams(body).toString(),
  };
}

async function openCalls(target: Target, n: number): Promise<string[]> {
  const sids = Array.from({ length: n }, sid);
  for (let i = 0; i < sids.length; i += 50) {
    await Promise.all(
      sids.slice(i, i + 50).map(async (s) => {
        const req = signed('/twilio/voice', params(s));
        await fetch(target.url + req.path, { method: 'POST', headers: req.headers, body: req.body });
      }),
    );
  }
  return sids;
}

/**
 * Waits until the workers have written every transcript accepted so far (the stream is empty:
 * entries are deleted once committed), so a load on gather is measured with its own writes and
 * not with the backlog of the thousands of calls opened just before it.
 */
async function drained(timeoutMs = 180_000): Promise<void> {
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const started = Date.now();
    while ((await redis.xlen(RedisKeys.transcriptStream())) > 0 && Date.now() - started < timeoutMs) await new Promise((r) => setTimeout(r, 200));
  } finally {
    redis.disconnect();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Open loop at a fixed rate: one request every 1000/rate ms, whatever the answers do. */
async function openLoop(target: Target, route: 'voice' | 'gather', rate: number): Promise<Row> {
  const total = rate * DURATION;
  const calls = route === 'gather' ? await openCalls(target, total) : [];
  await drained();
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now() + 50;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const req =
      route === 'voice'
        ? signed('/twilio/voice', params(sid()))
        : signed('/twilio/gather?step=1', params(calls[i], { SpeechResult: 'I need help with my bill', Confidence: '0.93' }));
    inflight.push(
      fetch(target.url + req.path, { method: 'POST', headers: req.headers, body: req.body })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status !== 200) errors++;
          latencies.push(performance.now() - due);
        })
        .catch(() => void errors++),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    target: target.name,
    route,
    load: `${rate}/s`,
    rps: Math.round(latencies.length / elapsed),
    p50: Math.round(percentile(latencies, 50) * 10) / 10,
    p99: Math.round(percentile(latencies, 99) * 10) / 10,
    errors,
  };
}

/** `calls` calls taking a turn at the same moment, `rounds` times: the answer's latency (p50, p95 in the p99 column's place is printed separately). */
async function burst(target: Target, calls: number, rounds: number): Promise<Row & { p95: number }> {
  const latencies: number[] = [];
  let errors = 0;
  for (let round = 0; round < rounds; round++) {
    const sids = await openCalls(target, calls);
    await drained();
    await Promise.all(
      sids.map(async (callSid) => {
        const req = signed('/twilio/gather?step=1', params(callSid, { SpeechResult: 'I need help with my bill', Confidence: '0.93' }));
        const t0 = performance.now();
        const res = await fetch(target.url + req.path, { method: 'POST', headers: req.headers, body: req.body }).catch(() => undefined);
        const body = res ? await res.text() : '';
        if (!res || res.status !== 200 || !body.includes('billing')) errors++;
        latencies.push(performance.now() - t0);
      }),
    );
  }
  latencies.sort((a, b) => a - b);
  const r1 = (n: number) => Math.round(n * 10) / 10;
  return { target: target.name, route: 'gather', load: `${calls} at once`, rps: 0, p50: r1(percentile(latencies, 50)), p99: r1(percentile(latencies, 99)), p95: r1(percentile(latencies, 95)), errors };
}

async function load(target: Target, route: 'voice' | 'gather', rate?: number): Promise<Row> {
  if (rate) return openLoop(target, route, rate);
  // Calls opened ahead of a gather load (each request is a distinct turn); BENCH_MAX_CALLS lowers it for short runs.
  const expected = Number(process.env.BENCH_MAX_CALLS ?? 20_000);
  const calls = route === 'gather' ? await openCalls(target, Math.min(expected + 500, 25_000)) : [];
  await drained();
  let next = 0;
  const pids = await target.pids?.();
  const cpuBefore = pids && Object.fromEntries(Object.entries(pids).map(([role, list]) => [role, cpuOf(list)]));
  const benchBefore = process.cpuUsage();
  const result = await autocannon({
    url: target.url,
    duration: DURATION,
    connections: CONNECTIONS,
    requests: [
      {
        setupRequest: (req) => {
          if (route === 'voice') return { ...req, ...signed('/twilio/voice', params(sid())) };
          const callSid = calls[next++ % calls.length];
          return { ...req, ...signed('/twilio/gather?step=1', params(callSid, { SpeechResult: 'I need help with my bill', Confidence: '0.93' })) };
        },
      },
    ],
  });
  const requests = Math.max(1, result.requests.total);
  const cpu = pids && cpuBefore
    ? {
        ...Object.fromEntries(Object.entries(pids).map(([role, list]) => [role, (cpuOf(list) - cpuBefore[role]) / requests])),
        'load generator': (() => { const u = process.cpuUsage(benchBefore); return (u.user + u.system) / 1000 / requests; })(),
      }
    : undefined;
  return {
    cpu,
    target: target.name,
    route,
    load: 'max',
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux clock ticks of 10 ms). */
function cpuMs(child: ChildProcess): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * What the metrics record for one answered gather turn (webhook timing, the transcript write
 * with a caller turn, an agent turn with five stages, a tool turn and an event), timed in this
 * process: the instrumentation's own CPU cost per webhook, free of the machine's noise.
 */
function instrumentationMicros(): number {
  const metrics = new MetricsService('api', true);
  const at = new Date().toISOString();
  const call = { callSid: 'CA0', direction: 'inbound' as const, mode: 'gather' as const, agentName: 'default', startedAt: at };
  const batch = {
    call,
    turns: [
      { callSid: 'CA0', seq: 2, speaker: 'caller' as const, text: 'I need help with my bill', confidence: 0.93, startedAt: at },
      { callSid: 'CA0', seq: 3, speaker: 'tool' as const, text: 'route_department({"department":"billing"})', startedAt: at },
      { callSid: 'CA0', seq: 4, speaker: 'agent' as const, text: "You're through to billing.", startedAt: at, timings: { total: 80, queue: 10, model_first_token: 30, model_total: 40 } },
    ],
    events: [{ callSid: 'CA0', type: 'status', dedupeKey: 'voice:in-progress', at }],
  };
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      metrics.observeWebhook('/twilio/gather', 200, 0.004 + (i % 50) / 1000);
      metrics.observeCallWrite(batch);
    }
  };
  run(20_000); // warm up
  const n = 200_000;
  const started = process.cpuUsage();
  run(n);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / n;
}

/**
 * BENCH_METRICS=compare: the cost of the Prometheus metrics. Two api processes on one worker,
 * METRICS_ENABLED=true and =false, under the same maximum load, in alternating order for
 * BENCH_ROUNDS rounds (the machine is noisy: the median of the per-round ratios is the result).
 */
async function compareMetrics(): Promise<void> {
  const [onPort, offPort, workerPort] = [freePort(), freePort(), freePort()];
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const worker = await startProcess(['dist/apps/worker/src/main.js'], { ...env, WORKER_PORT: String(workerPort) }, `http://127.0.0.1:${workerPort}/health/ready`);
  const on = await startProcess(['dist/apps/api/src/main.js'], { ...env, PORT: String(onPort), METRICS_ENABLED: 'true' }, `http://127.0.0.1:${onPort}/health/ready`);
  const off = await startProcess(['dist/apps/api/src/main.js'], { ...env, PORT: String(offPort), METRICS_ENABLED: 'false' }, `http://127.0.0.1:${offPort}/health/ready`);
  const targets: Target[] = [
    { name: 'metrics on', url: `http://127.0.0.1:${onPort}` },
    { name: 'metrics off', url: `http://127.0.0.1:${offPort}` },
  ];
  const rows: (Row & { round: number; cpuPerRequestUs: number })[] = [];
  const processes: Record<string, ChildProcess> = { 'metrics on': on, 'metrics off': off };
  try {
    for (const route of (process.env.BENCH_ROUTES ?? 'voice,gather').split(',') as ('voice' | 'gather')[]) {
      for (let round = 1; round <= rounds; round++) {
        for (const target of round % 2 ? targets : [...targets].reverse()) {
          const before = cpuMs(processes[target.name]);
          const row = await load(target, route);
          const requests = row.rps * DURATION;
          rows.push({ ...row, round, cpuPerRequestUs: Math.round(((cpuMs(processes[target.name]) - before) * 1000) / Math.max(1, requests)) });
        }
      }
    }
  } finally {
    await Promise.all([on, off, worker].map(stopProcess));
  }
  console.log(`\nmachine: ${machine()}; ${new Date().toISOString()}; ${DURATION} s per load, ${rounds} rounds\n`);
  console.log('| route | round | target | req/s | p50 ms | p99 ms | api CPU µs/request | errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.route} | ${r.round} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.cpuPerRequestUs} | ${r.errors} |`);
  const micros = instrumentationMicros();
  for (const route of new Set(rows.map((r) => r.route))) {
    const ratios = [];
    for (let round = 1; round <= rounds; round++) {
      const of = (name: string) => rows.find((r) => r.route === route && r.round === round && r.target === name)!.rps;
      ratios.push(of('metrics on') / of('metrics off'));
    }
    ratios.sort((a, b) => a - b);
    const sum = (name: string) => rows.filter((r) => r.route === route && r.target === name).reduce((t, r) => t + r.rps, 0);
    const cpu = (name: string) => {
      const values = rows.filter((r) => r.route === route && r.target === name).map((r) => r.cpuPerRequestUs).sort((a, b) => a - b);
      return values[Math.floor(values.length / 2)];
    };
    console.log(`\n${route}: api CPU per request, median of rounds: on ${cpu('metrics on')} µs, off ${cpu('metrics off')} µs (on / off ${(cpu('metrics on') / cpu('metrics off')).toFixed(3)}); instrumentation alone ${micros.toFixed(2)} µs per webhook = ${((100 * micros) / cpu('metrics off')).toFixed(2)} % of the api's CPU per request`);
    console.log(`${route}: throughput on / off — median of rounds ${ratios[Math.floor(ratios.length / 2)].toFixed(3)}, pooled ${(sum('metrics on') / sum('metrics off')).toFixed(3)} (rounds: ${ratios.map((r) => r.toFixed(3)).join(', ')})`);
  }
}

/**
 * Versions of the api measured in one run, one after the other (each with its own worker), plus
 * the bare Express baseline: `BENCH_BEFORE_ROOT` adds another checkout's build (e.g. the seed's),
 * `BENCH_IN_API=1` adds this build with the built-in agent answered in the api.
 */
function variants(): { name: string; root: string; extra: Record<string, string> }[] {
  const list = [{ name: 'switchboard api', root: APP_ROOT, extra: {} }];
  if (process.env.BENCH_BEFORE_ROOT) list.unshift({ name: 'api before (seed)', root: `${process.env.BENCH_BEFORE_ROOT.replace(/\/$/, '')}/`, extra: {} });
  if (process.env.BENCH_IN_API === '1') list.push({ name: 'switchboard api, AGENT_LOCAL_IN_API', root: APP_ROOT, extra: { AGENT_LOCAL_IN_API: 'true' } });
  return list;
}

async function main(): Promise<void> {
  if (process.env.BENCH_METRICS === 'compare') return compareMetrics();
  const barePort = freePort();
  // BENCH_WITHOUT_WORKER=1 measures the api alone (jobs pile up in Redis): how much of the tail
  // comes from sharing two cores with the worker and Postgres.
  const withWorker = process.env.BENCH_WITHOUT_WORKER !== '1';
  const bare = await startProcess(['node_modules/tsx/dist/cli.mjs', 'bench/bare-express.ts'], { ...env, PORT: String(barePort) }, `http://127.0.0.1:${barePort}/health`);
  // tsx runs the script in a child process of its own: count the whole tree.
  const bareTarget: Target = { name: 'bare express', url: `http://127.0.0.1:${barePort}`, pids: async () => ({ api: descendants(bare.pid!) }) };
  const routes = (process.env.BENCH_ROUTES ?? 'voice,gather').split(',') as ('voice' | 'gather')[];
  const rows: Row[] = [];
  const bursts: (Row & { p95: number })[] = [];
  try {
    for (const route of routes) for (const rate of [200, undefined]) rows.push(await load(bareTarget, route, rate));
    for (const variant of variants()) {
      const apiPort = freePort();
      const workerPort = apiPort + 2;
      const venv = { ...env, ...variant.extra };
      const worker = withWorker
        ? await startProcess([`${variant.root}dist/apps/worker/src/main.js`], { ...venv, WORKER_PORT: String(workerPort) }, `http://127.0.0.1:${workerPort}/health/ready`)
        : undefined;
      const api = await startProcess([...API_NODE_ARGS, `${variant.root}dist/apps/api/src/main.js`], { ...venv, PORT: String(apiPort) }, `http://127.0.0.1:${apiPort}/health${withWorker ? '/ready' : ''}`);
      try {
        const target: Target = {
          name: variant.name,
          url: `http://127.0.0.1:${apiPort}`,
          pids: async () => ({ api: [api.pid!], ...(worker ? { worker: [worker.pid!] } : {}), ...(await storePids()) }),
        };
        for (const route of routes) for (const rate of [200, undefined]) rows.push(await load(target, route, rate));
        if (routes.includes('gather')) bursts.push(await burst(target, 30, 20));
      } finally {
        await Promise.all([api, worker].filter((p) => p !== undefined).map(stopProcess));
      }
    }
  } finally {
    await stopProcess(bare);
  }
  console.log(`\nmachine: ${machine()}; ${new Date().toISOString()}; ${DURATION} s per load, ${CONNECTIONS} connections at max\n`);
  console.log('| route | load | target | req/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|');
  for (const route of routes) for (const r of rows.filter((x) => x.route === route)) console.log(`| ${r.route} | ${r.load} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} |`);
  const roles = ['api', 'worker', 'redis', 'postgres', 'load generator'];
  console.log('\nCPU per request at max throughput (ms of one core; /proc times, 10 ms ticks):\n');
  console.log(`| route | target | ${roles.join(' | ')} | total |`);
  console.log(`|---|---|${roles.map(() => '---:').join('|')}|---:|`);
  for (const r of rows.filter((x) => x.cpu)) {
    const total = Object.values(r.cpu!).reduce((a, b) => a + b, 0);
    console.log(`| ${r.route} | ${r.target} | ${roles.map((role) => (r.cpu![role] === undefined ? '–' : r.cpu![role].toFixed(3))).join(' | ')} | ${total.toFixed(3)} |`);
  }
  if (bursts.length) {
    console.log('\n| 30 calls taking a turn at once (20 rounds) | answer p50 ms | p95 ms | p99 ms | wrong or failed |');
    console.log('|---|---:|---:|---:|---:|');
    for (const b of bursts) console.log(`| ${b.target} | ${b.p50} | ${b.p95} | ${b.p99} | ${b.errors} |`);
  }
  for (const route of routes) {
    const base = rows.find((r) => r.route === route && r.load === 'max' && r.target === 'bare express')!;
    for (const ours of rows.filter((r) => r.route === route && r.load === 'max' && r.target !== 'bare express')) {
      console.log(`${route}: throughput ratio ${ours.target} / bare = ${(ours.rps / base.rps).toFixed(2)}`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
