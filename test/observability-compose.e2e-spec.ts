import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

// The compose project's Prometheus and Grafana: private, wired to the apps by service name,
// and with configuration files that Prometheus's own checker accepts.
const dir = mkdtempSync(join(tmpdir(), 'obs-compose-'));
const emptyEnv = join(dir, 'empty.env');
writeFileSync(emptyEnv, '');
const env = {
  PATH: process.env.PATH,
  POSTGRES_PASSWORD: 'pw',
  PUBLIC_BASE_URL: 'https://voice.example.com',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'token',
};

function composeConfig(): { services: Record<string, Record<string, any>> } {
  const args = ['--env-file', emptyEnv, 'config'];
  let result = spawnSync('docker', ['compose', ...args], { env, encoding: 'utf8' });
  if (result.error || result.status !== 0) result = spawnSync('docker-compose', args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`compose config failed: ${result.stderr}`);
  return parse(result.stdout);
}

const services = composeConfig().services;
const prometheusYml = parse(readFileSync('ops/prometheus/prometheus.yml', 'utf8')) as {
  scrape_configs: Array<{ job_name: string; dns_sd_configs: Array<{ names: string[]; type: string; port: number }>; authorization?: { credentials_file: string } }>;
};

/** Published ports as `host_ip:published` strings, whichever syntax compose printed. */
function published(service: Record<string, any>): string[] {
  return (service.ports ?? []).map((p: string | { host_ip?: string; published?: string | number }) =>
    typeof p === 'string' ? p.split(':').slice(0, -1).join(':') : `${p.host_ip ?? ''}:${p.published}`,
  );
}

describe('compose observability', () => {
  it('publishes Prometheus and Grafana on the host loopback only', () => {
    for (const name of ['prometheus', 'grafana']) {
      const ports = published(services[name]);
      expect(ports.length).toBeGreaterThan(0);
      for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    expect(services.grafana.environment.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(services.grafana.environment.GF_USERS_ALLOW_SIGN_UP).toBe('false');
  });

  it('scrapes the api and every worker replica through compose DNS on their ports, with the apps token', () => {
    const jobs = Object.fromEntries(prometheusYml.scrape_configs.map((j) => [j.job_name, j]));
    expect(jobs.api.dns_sd_configs[0]).toMatchObject({ names: ['api'], type: 'A', port: Number(services.api.environment.PORT) });
    expect(jobs.worker.dns_sd_configs[0]).toMatchObject({ names: ['worker'], type: 'A', port: Number(services.worker.environment.WORKER_PORT) });
    // The worker scales freely: no fixed name or port for Prometheus to depend on.
    expect(services.worker.container_name).toBeUndefined();
    expect(services.worker.ports).toBeUndefined();
    const entrypoint = services.prometheus.entrypoint.join(' ');
    for (const job of prometheusYml.scrape_configs) expect(entrypoint).toContain(`> ${job.authorization!.credentials_file}`);
    expect(services.prometheus.environment).toHaveProperty('METRICS_TOKEN');
    expect(services.api.environment).toHaveProperty('METRICS_TOKEN');
    expect(services.worker.environment).toHaveProperty('METRICS_TOKEN');
  });

  it('mounts configuration that exists, and Grafana provisions the committed dashboard from the Prometheus data source', () => {
    const mounts = [...services.prometheus.volumes, ...services.grafana.volumes]
      .map((v: string | { type: string; source: string; target: string }) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v))
      .filter((v: { source: string }) => v.source.includes('/ops/'));
    expect(mounts.length).toBe(3);
    for (const m of mounts) expect(existsSync(m.source)).toBe(true);
    const provider = parse(readFileSync('ops/grafana/provisioning/dashboards/switchboard.yml', 'utf8')).providers[0];
    expect(mounts.find((m: { source: string }) => m.source.endsWith('ops/grafana/dashboards'))?.target).toBe(provider.options.path);
    const datasource = parse(readFileSync('ops/grafana/provisioning/datasources/prometheus.yml', 'utf8')).datasources[0];
    expect(datasource.url).toBe('http://prometheus:9090');
    const dashboard = JSON.parse(readFileSync('ops/grafana/dashboards/switchboard.json', 'utf8'));
    for (const panel of dashboard.panels) if (panel.type !== 'row') expect(panel.datasource.uid).toBe(datasource.uid);
  });

  it('has a Prometheus configuration that promtool accepts', () => {
    // promtool checks that the token file exists: point it at a temporary one.
    const token = join(dir, 'metrics-token');
    writeFileSync(token, 'x');
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, readFileSync('ops/prometheus/prometheus.yml', 'utf8').replaceAll('/prometheus/metrics-token', token));
    const result = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });
});
