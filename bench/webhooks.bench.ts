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
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { loadConfig } from '#libs/config';
import { MetricsService } from '#libs/metrics';
import { signTwilioRequest } from '#libs/telephony';
import { freePort, machine, startProcess, stopProcess } from './support.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
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
  // Calls opened ahead of a gather load (each request is a distinct turn); BENCH_MAX_CALLS lowers it for short runs.
  const expected = Number(process.env.BENCH_MAX_CALLS ?? 20_000);
  const calls = route === 'gather' ? await openCalls(target, Math.min(expected + 500, 25_000)) : [];
  let next = 0;
  const result = await autocannon({
    url: target.url,
    duration: DURATION,
    connections: 20,
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

async function main(): Promise<void> {
  if (process.env.BENCH_METRICS === 'compare') return compareMetrics();
  const apiPort = freePort();
  const barePort = apiPort + 1;
  const workerPort = apiPort + 2;
  // BENCH_WITHOUT_WORKER=1 measures the api alone (jobs pile up in Redis): how much of the tail
  // comes from sharing two cores with the worker and Postgres.
  const withWorker = process.env.BENCH_WITHOUT_WORKER !== '1';
  const worker = withWorker
    ? await startProcess(['dist/apps/worker/src/main.js'], { ...env, WORKER_PORT: String(workerPort) }, `http://127.0.0.1:${workerPort}/health/ready`)
    : undefined;
  const api = await startProcess(['dist/apps/api/src/main.js'], { ...env, PORT: String(apiPort) }, `http://127.0.0.1:${apiPort}/health${withWorker ? '/ready' : ''}`);
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
