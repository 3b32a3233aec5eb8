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
import { loadConfig } from '#libs/config';
import { signTwilioRequest } from '#libs/telephony';
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

type Target = { name: string; url: string };
type Row = { target: string; route: string; load: string; rps: number; p50: number; p99: number; errors: number };

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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Open loop at a fixed rate: one request every 1000/rate ms, whatever the answers do. */
async function openLoop(target: Target, route: 'voice' | 'gather', rate: number): Promise<Row> {
  const total = rate * DURATION;
  const calls = route === 'gather' ? await openCalls(target, total) : [];
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
    await new Promise((r) => setTimeout(r, 200));
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
  // Distinct calls for the gather load: once they run out, turns repeat (cached replies, cheaper).
  const calls = route === 'gather' ? await openCalls(target, Number(process.env.BENCH_MAX_CALLS ?? 10_000)) : [];
  let next = 0;
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
  return {
    target: target.name,
    route,
    load: 'max',
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
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
  const barePort = freePort();
  // BENCH_WITHOUT_WORKER=1 measures the api alone (jobs pile up in Redis): how much of the tail
  // comes from sharing two cores with the worker and Postgres.
  const withWorker = process.env.BENCH_WITHOUT_WORKER !== '1';
  const bare = await startProcess(['node_modules/tsx/dist/cli.mjs', 'bench/bare-express.ts'], { ...env, PORT: String(barePort) }, `http://127.0.0.1:${barePort}/health`);
  const bareTarget: Target = { name: 'bare express', url: `http://127.0.0.1:${barePort}` };
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
        const target: Target = { name: variant.name, url: `http://127.0.0.1:${apiPort}` };
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
