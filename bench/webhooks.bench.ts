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

async function load(target: Target, route: 'voice' | 'gather', rate?: number): Promise<Row> {
  if (rate) return openLoop(target, route, rate);
  const expected = 20_000;
  const calls = route === 'gather' ? await openCalls(target, Math.min(expected + 500, 25_000)) : [];
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

async function main(): Promise<void> {
  const apiPort = freePort();
  const barePort = apiPort + 1;
  const workerPort = apiPort + 2;
  // BENCH_WITHOUT_WORKER=1 measures the api alone (jobs pile up in Redis): how much of the tail
  // comes from sharing two cores with the worker and Postgres.
  const withWorker = process.env.BENCH_WITHOUT_WORKER !== '1';
  const worker = withWorker
    ? await startProcess([`${APP_ROOT}dist/apps/worker/src/main.js`], { ...env, WORKER_PORT: String(workerPort) }, `http://127.0.0.1:${workerPort}/health/ready`)
    : undefined;
  const api = await startProcess([...API_NODE_ARGS, `${APP_ROOT}dist/apps/api/src/main.js`], { ...env, PORT: String(apiPort) }, `http://127.0.0.1:${apiPort}/health${withWorker ? '/ready' : ''}`);
  const bare = await startProcess(['node_modules/tsx/dist/cli.mjs', 'bench/bare-express.ts'], { ...env, PORT: String(barePort) }, `http://127.0.0.1:${barePort}/health`);
  const targets: Target[] = [
    { name: 'switchboard api', url: `http://127.0.0.1:${apiPort}` },
    { name: 'bare express', url: `http://127.0.0.1:${barePort}` },
  ];
  const rows: Row[] = [];
  try {
    const routes = (process.env.BENCH_ROUTES ?? 'voice,gather').split(',') as ('voice' | 'gather')[];
    for (const route of routes) {
      for (const rate of [200, undefined]) {
        for (const target of targets) rows.push(await load(target, route, rate));
      }
    }
  } finally {
    await Promise.all([api, worker, bare].filter((p) => p !== undefined).map(stopProcess));
  }
  console.log(`\nmachine: ${machine()}; ${new Date().toISOString()}; ${DURATION} s per load\n`);
  console.log('| route | load | target | req/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.route} | ${r.load} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} |`);
  for (const route of new Set(rows.map((r) => r.route))) {
    const ours = rows.find((r) => r.route === route && r.load === 'max' && r.target === 'switchboard api')!;
    const base = rows.find((r) => r.route === route && r.load === 'max' && r.target === 'bare express')!;
    console.log(`\n${route}: throughput ratio api / bare = ${(ours.rps / base.rps).toFixed(2)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
