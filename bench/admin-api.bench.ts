/**
 * npm run bench:admin — latency of the admin API's listing and search over 100,000 calls and
 * 1,000,000 turns (seed first: npm run bench:admin:seed). The real api runs as its own process
 * against the bench database; baselines are measured in the same run on the same machine
 * (the machine is shared and noisy: compare ratios, not absolute numbers).
 *
 * Each scenario: 30 warm-up requests, then BENCH_REQUESTS (default 400) sequential requests
 * (p50/p95/p99 of single-request latency), then 8 connections for BENCH_DURATION seconds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { benchDatabaseUrl, RARE_WORD } from './admin-seed.js';
import { freePort, machine, startProcess, stopProcess } from './support.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
/** BENCH_API_MAIN: an api entry point built elsewhere (e.g. the seed's), to compare versions on one machine. */
/** Only the scenarios whose name contains this text (e.g. `relevance`); the baselines always run. */
const FILTER = process.env.BENCH_FILTER ?? '';
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const key = `bench-${randomBytes(24).toString('base64url')}`;

/**
 * The api compiled into a private folder: tsx cannot run Nest (no decorator metadata) and
 * `npm run build` would replace the dist/ other processes may be running from.
 */
function buildApi(): string {
  // One folder per checkout: several checkouts may bench at once on one machine.
  const out = path.join(tmpdir(), `switchboard-admin-bench-${createHash('sha1').update(process.cwd()).digest('hex').slice(0, 8)}`);
  try {
    execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json', '--outDir', out], { stdio: 'pipe' });
  } catch (err) {
    // Type errors elsewhere in a tree under work still emit JavaScript; a missing entry point is fatal.
    if (!existsSync(path.join(out, 'apps/api/src/main.js'))) throw err;
  }
  writeFileSync(path.join(out, 'package.json'), JSON.stringify({ type: 'module', imports: { '#libs/*': './libs/*/src/index.js' } }));
  if (!existsSync(path.join(out, 'node_modules'))) symlinkSync(path.resolve('node_modules'), path.join(out, 'node_modules'), 'dir');
  return path.join(out, 'apps/api/src/main.js');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Row {
  name: string;
  p50: number;
  p95: number;
  p99: number;
  rps?: number;
  p99Loaded?: number;
  items?: number;
}

async function sequential(name: string, run: () => Promise<number>): Promise<Row> {
  for (let i = 0; i < 30; i++) await run();
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    items = await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), items };
}

async function loaded(row: Row, url: string, headers: Record<string, string>): Promise<Row> {
  const result = await autocannon({ url, connections: 8, duration: DURATION, headers });
  if (result.non2xx || result.errors) throw new Error(`${row.name}: ${result.non2xx} non-2xx, ${result.errors} errors under load`);
  return { ...row, rps: result.requests.average, p99Loaded: result.latency.p99 };
}

async function main(): Promise<void> {
  const dbUrl = benchDatabaseUrl();
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const { rows } = await db.query('SELECT (SELECT count(*) FROM calls)::int AS calls, (SELECT count(*) FROM turns)::int AS turns');
  if (rows[0].calls < 1000) throw new Error('the bench database is empty: run npm run bench:admin:seed first');

  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = await startProcess(
    [(process.env.BENCH_API_MAIN ?? buildApi())],
    { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), DATABASE_URL: dbUrl, ADMIN_API_KEY: key, ADMIN_RATE_LIMIT: '1000000' },
    `${base}/health`,
  );
  const headers = { authorization: `Bearer ${key}` };
  const get = async (pathAndQuery: string): Promise<number> => {
    const res = await fetch(base + pathAndQuery, { headers });
    if (res.status !== 200) throw new Error(`${pathAndQuery}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { items?: unknown[] };
    return body.items?.length ?? 0;
  };

  // A cursor 40 pages of 100 deep (4,000 calls back), to show keyset pages do not slow down.
  let deep = '';
  for (let i = 0; i < 40; i++) {
    const res = (await (await fetch(`${base}/admin/calls?limit=100${deep ? `&cursor=${deep}` : ''}`, { headers })).json()) as { nextCursor: string };
    deep = res.nextCursor;
  }
  const week = encodeURIComponent(new Date(Date.now() - 7 * 86_400_000).toISOString());
  const scenarios: [string, string][] = [
    ['list, no filter (limit 25)', '/admin/calls'],
    ['list, status=busy&direction=inbound', '/admin/calls?status=busy&direction=inbound'],
    ['list, from=<caller> (20 calls)', '/admin/calls?from=%2B15550000042'],
    ['list, mode=stream&since=<7 days>', `/admin/calls?mode=stream&since=${week}`],
    ['list, disposition=transferred&to=<number>', '/admin/calls?disposition=transferred&to=%2B15559990003'],
    ['list, page 41 (cursor 4,000 calls deep)', `/admin/calls?cursor=${deep}`],
    ['search q=refund (6.6% of turns)', '/admin/calls?q=refund'],
    ['search q="double charge" (phrase)', `/admin/calls?q=${encodeURIComponent('"double charge"')}`],
    [`search q=${RARE_WORD} (0.7% of turns)`, `/admin/calls?q=${RARE_WORD}`],
    ['search q=zebra (no match)', '/admin/calls?q=zebra'],
    ['search q=refund&from=<caller>', '/admin/calls?q=refund&from=%2B15550000042'],
    [`search q=${RARE_WORD}&sort=relevance`, `/admin/calls?q=${RARE_WORD}&sort=relevance`],
    ['search q=refund&from=<caller>&sort=relevance', '/admin/calls?q=refund&from=%2B15550000042&sort=relevance'],
    ['search q=refund&sort=relevance (broad)', '/admin/calls?q=refund&sort=relevance'],
    ['search q="double charge"&sort=relevance (phrase, 2.5% of turns)', `/admin/calls?q=${encodeURIComponent('"double charge"')}&sort=relevance`],
    ['stats, last 30 days (≈33,000 calls)', '/admin/stats'],
  ];

  const results: Row[] = [];
  results.push(await sequential('baseline: pg SELECT 1 (bench process → Postgres)', async () => (await db.query('SELECT 1')).rowCount ?? 0));
  results.push(await loaded(await sequential('baseline: GET /health (api, no I/O)', async () => ((await fetch(`${base}/health`)).status === 200 ? 0 : -1)), `${base}/health`, {}));
  for (const [name, url] of scenarios.filter(([name]) => name.includes(FILTER))) {
    results.push(await loaded(await sequential(name, () => get(url)), base + url, headers));
  }
  await stopProcess(api);
  await db.end();

  const f = (n?: number) => (n === undefined ? '–' : n.toFixed(1));
  process.stdout.write(`\n${new Date().toISOString()} · ${machine()} · ${rows[0].calls} calls, ${rows[0].turns} turns · ${REQUESTS} sequential requests per row, then 8 connections for ${DURATION} s\n\n`);
  process.stdout.write('| scenario | items | p50 ms | p95 ms | p99 ms | 8 conn. req/s | 8 conn. p99 ms |\n|---|---:|---:|---:|---:|---:|---:|\n');
  for (const r of results) {
    process.stdout.write(`| ${r.name} | ${r.items ?? ''} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${r.rps === undefined ? '–' : Math.round(r.rps)} | ${f(r.p99Loaded)} |\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
