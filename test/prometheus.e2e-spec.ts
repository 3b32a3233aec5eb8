import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { FakeTwilio, callParams, newCallSid, resetState, startApi, testConfig, twimlUrl, waitFor, type Running } from './support/harness.js';
import { PrometheusServer, freePort, scrape } from './support/prometheus.js';
import { ensureBuilt, spawnWorker, stopWorker, type WorkerProcess } from './support/worker-pool.js';

// A real Prometheus (Debian's package) on loopback scrapes the api (in this process) and two
// worker processes (the built app, as in production), all with METRICS_TOKEN set.
const TOKEN = 'metrics-token-0123456789abcdef';
const config = testConfig({ METRICS_TOKEN: TOKEN });
const workers: WorkerProcess[] = [];
const workerUrls: string[] = [];
let api: Running;
let twilio: FakeTwilio;
let prometheus: PrometheusServer;

const DASHBOARD = JSON.parse(readFileSync(new URL('../ops/grafana/dashboards/switchboard.json', import.meta.url), 'utf8')) as Dashboard;
const DATASOURCES = parseYaml(readFileSync(new URL('../ops/grafana/provisioning/datasources/prometheus.yml', import.meta.url), 'utf8')) as {
  datasources: Array<{ uid: string; type: string }>;
};

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  time: { from: string; to: string };
  templating: { list: unknown[] };
}

beforeAll(async () => {
  ensureBuilt();
  await resetState();
  api = await startApi(config);
  twilio = new FakeTwilio(api.url, config);
  for (const name of ['w1', 'w2']) {
    const port = await freePort();
    workers.push(
      await spawnWorker(name, {
        PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
        TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN,
        DATABASE_URL: config.DATABASE_URL,
        REDIS_URL: config.REDIS_URL,
        WORKER_PORT: String(port),
        METRICS_TOKEN: TOKEN,
      }, config.REDIS_URL),
    );
    workerUrls.push(`http://127.0.0.1:${port}`);
  }
  await Promise.all(workerUrls.map((url) => waitFor(async () => (await fetch(`${url}/health`)).ok, 20_000, 100)));
  prometheus = new PrometheusServer([api.url, ...workerUrls].map((u) => u.replace('http://', '')), TOKEN);
  await prometheus.start();
}, 90_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(workers.map((w) => stopWorker(w)));
  await api?.close();
});

/** Metric names a PromQL expression reads (identifiers of our families and Node's, not functions or labels). */
function metricNames(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '').replace(/by \([^)]*\)/g, '');
  return [...new Set(withoutLabels.match(/\b(switchboard|nodejs|process)_[a-zA-Z0-9_]+\b/g) ?? [])];
}

/** Family names declared by an exposition (`# TYPE name kind`), with the series suffixes of histograms. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]);
    if (m[2] === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(m[1] + suffix);
    if (m[2] === 'summary') for (const suffix of ['_count', '_sum']) names.add(m[1] + suffix);
  }
  return names;
}

describe('a real Prometheus', () => {
  it('scrapes the api and both workers, and answers the turn-latency quantile', async () => {
    await waitFor(async () => {
      const up = await prometheus.query('sum(up)');
      return up.length === 1 && Number(up[0].value[1]) === 3;
    }, 30_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\nprometheus: ${prometheus.output.join('')}`);
    });
    const apps = await prometheus.query('count by (app) (process_start_time_seconds)');
    expect(Object.fromEntries(apps.map((r) => [r.metric.app, Number(r.value[1])]))).toEqual({ api: 1, worker: 2 });

    // A few calls: every answered turn lands in the api's turn histogram.
    for (let i = 0; i < 3; i++) {
      const sid = newCallSid();
      const voice = await twilio.post('/twilio/voice', callParams(sid, config));
      const gather = await twilio.post(FakeTwilio.pathOf(twimlUrl(voice.body, 'Gather')!), callParams(sid, config, { SpeechResult: 'I need help with my bill', Confidence: '0.9' }));
      expect(gather.body).toMatch(/billing/i);
      // rate() needs the series scraped before it grows: the first turn's sample is the base
      // from which the later turns' increase is computed (all three can land between two scrapes).
      if (i === 0) {
        await waitFor(async () => {
          const seen = await prometheus.query('sum(switchboard_turn_stage_seconds_count{stage="total",mode="gather"})');
          return seen.length === 1 && Number(seen[0].value[1]) >= 1;
        }, 30_000, 250);
      }
    }
    const quantile = await waitFor(async () => {
      const result = await prometheus.query(
        'histogram_quantile(0.95, sum by (le, mode) (rate(switchboard_turn_stage_seconds_bucket{stage="total"}[1m])))',
      );
      const gather = result.find((r) => r.metric.mode === 'gather');
      const value = gather ? Number(gather.value[1]) : Number.NaN;
      return Number.isFinite(value) && value > 0 && value;
    }, 30_000, 500);
    expect(quantile).toBeLessThan(15);
    // The workers' side of the same turns: their job histograms, summed across both replicas.
    const jobs = await waitFor(async () => {
      const r = await prometheus.query('sum(switchboard_queue_job_duration_seconds_count{queue="agent-turns",outcome="completed"})');
      return r.length === 1 && Number(r[0].value[1]) >= 3 && Number(r[0].value[1]);
    }, 30_000, 500);
    expect(jobs).toBe(3);
  }, 120_000);

  it('the committed dashboard is valid Grafana dashboard JSON whose every query reads an exported metric and parses', async () => {
    expect(DASHBOARD).toMatchObject({ uid: expect.any(String), title: expect.any(String), templating: { list: expect.any(Array) }, time: { from: expect.any(String) } });
    expect(DASHBOARD.schemaVersion).toBeGreaterThanOrEqual(36);
    const uid = DATASOURCES.datasources.find((d) => d.type === 'prometheus')!.uid;
    const ids = DASHBOARD.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);

    const exported = new Set<string>();
    for (const url of [api.url, ...workerUrls]) for (const name of exportedNames((await scrape(url, TOKEN)).text)) exported.add(name);
    const queries = DASHBOARD.panels.filter((p) => p.type !== 'row');
    expect(queries.length).toBeGreaterThanOrEqual(15);
    for (const panel of DASHBOARD.panels) {
      expect(['row', 'timeseries', 'stat', 'gauge', 'table', 'bargauge']).toContain(panel.type);
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource).toEqual({ type: 'prometheus', uid });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets!) {
        const names = metricNames(target.expr);
        expect(names.length).toBeGreaterThan(0);
        for (const name of names) if (!exported.has(name)) throw new Error(`panel "${panel.title}" reads ${name}, which no app exports`);
        // Grafana's $__rate_interval is Grafana's; Prometheus checks the rest of the expression.
        await prometheus.query(target.expr.replaceAll('$__rate_interval', '1m'));
      }
    }
  }, 60_000);
});
