/**
 * npm run bench:console — how fast the operator console shows its first page with 100,000 calls
 * and 1,000,000 turns in the database (seed first: npm run bench:admin:seed). A real browser
 * (Debian's chromium through puppeteer-core), a fresh profile per load (cold cache: the HTML,
 * script and stylesheet are fetched every time), the real api as its own process.
 *
 * Measured, per page: navigation start → the page's data rendered (rows in the table). Baselines
 * in the same run: the sign-in page (same HTML and script, no data) and GET /health.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import puppeteer, { type Browser } from 'puppeteer-core';
import { benchDatabaseUrl } from './admin-seed.js';
import { freePort, machine, startProcess, stopProcess } from './support.js';

const LOADS = Number(process.env.BENCH_LOADS ?? 25);
const key = `bench-${randomBytes(24).toString('base64url')}`;

/** The api and the console compiled into a private folder (never the dist/ other processes run from). */
function build(): string {
  const out = path.join(tmpdir(), 'switchboard-console-bench');
  try {
    execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json', '--outDir', out], { stdio: 'pipe' });
  } catch (err) {
    if (!existsSync(path.join(out, 'apps/api/src/main.js'))) throw err;
  }
  writeFileSync(path.join(out, 'package.json'), JSON.stringify({ type: 'module', imports: { '#libs/*': './libs/*/src/index.js' } }));
  if (!existsSync(path.join(out, 'node_modules'))) symlinkSync(path.resolve('node_modules'), path.join(out, 'node_modules'), 'dir');
  execFileSync('node', ['scripts/build-console.mjs'], { stdio: 'pipe' });
  rmSync(path.join(out, 'dist/console'), { recursive: true, force: true });
  mkdirSync(path.join(out, 'dist'), { recursive: true });
  cpSync(path.resolve('dist/console'), path.join(out, 'dist/console'), { recursive: true });
  return path.join(out, 'apps/api/src/main.js');
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Loads `hash` in a fresh browser context `LOADS` times; ms from navigation start to `selector`. */
async function pageLoads(browser: Browser, base: string, hash: string, selector: string, signedIn: boolean): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < LOADS + 3; i++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width: 1366, height: 860 });
    if (signedIn) {
      await page.evaluateOnNewDocument((k: string) => {
        (globalThis as any).sessionStorage.setItem('switchboard.apiKey', k);
        (globalThis as any).sessionStorage.setItem('switchboard.admin', '1');
      }, key);
    }
    await page.goto(`${base}/console${hash}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(selector, { timeout: 30_000 });
    const ms = await page.evaluate(() => (globalThis as any).performance.now());
    if (i >= 3) times.push(ms);
    await context.close();
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const dbUrl = benchDatabaseUrl();
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const { rows } = await db.query('SELECT (SELECT count(*) FROM calls)::int AS calls, (SELECT count(*) FROM turns)::int AS turns');
  await db.end();
  if (rows[0].calls < 1000) throw new Error('the bench database is empty: run npm run bench:admin:seed first');

  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = await startProcess(
    [build()],
    { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), DATABASE_URL: dbUrl, ADMIN_API_KEY: key, ADMIN_RATE_LIMIT: '1000000' },
    `${base}/health`,
  );
  const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
  const results: [string, number[]][] = [];
  try {
    const health: number[] = [];
    for (let i = 0; i < LOADS + 3; i++) {
      const t = performance.now();
      await fetch(`${base}/health`);
      if (i >= 3) health.push(performance.now() - t);
    }
    results.push(['baseline: GET /health (no I/O)', health.sort((a, b) => a - b)]);
    results.push(['baseline: sign-in page (HTML + script + CSS, no data)', await pageLoads(browser, base, '', '#api-key', false)]);
    results.push(['history, first page (25 of 100k calls)', await pageLoads(browser, base, '#/calls', '[data-testid=history-table] tbody tr', true)]);
    results.push(['history, search q=refund (newest first)', await pageLoads(browser, base, '#/calls?q=refund', '[data-testid=history-table] tbody tr', true)]);
    results.push(['live calls (SSE, first event)', await pageLoads(browser, base, '#/live', '[data-testid=no-live], [data-testid=live-table]', true)]);
    results.push(['stats, last 30 days (≈33,000 calls)', await pageLoads(browser, base, '#/stats', '.kpis', true)]);
  } finally {
    await browser.close();
    await stopProcess(api);
  }
  const f = (n: number) => n.toFixed(0);
  process.stdout.write(`\n${new Date().toISOString()} · ${machine()} · ${rows[0].calls} calls, ${rows[0].turns} turns · ${LOADS} cold loads per row (fresh browser context each)\n\n`);
  process.stdout.write('| page | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|\n');
  for (const [name, t] of results) process.stdout.write(`| ${name} | ${f(percentile(t, 50))} | ${f(percentile(t, 95))} | ${f(t.at(-1)!)} |\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
