import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

// A developer's .env must not fill in what this test leaves out: point compose at an empty one.
const emptyEnv = join(mkdtempSync(join(tmpdir(), 'compose-')), 'empty.env');
writeFileSync(emptyEnv, '');
const ARGS = ['--env-file', emptyEnv, 'config'];

/** `docker compose` (v2 plugin) where installed, else Debian's `docker-compose`: both validate the file. */
function compose(env: NodeJS.ProcessEnv) {
  const v2 = spawnSync('docker', ['compose', ...ARGS], { env, encoding: 'utf8' });
  if (!/unknown (command|flag)|is not a docker command/.test(v2.stderr ?? '') && v2.status !== null && !v2.error) return v2;
  return spawnSync('docker-compose', ARGS, { env, encoding: 'utf8' });
}

function composeConfig(env: NodeJS.ProcessEnv): string {
  const result = compose(env);
  if (result.status !== 0) throw new Error(`docker compose config failed: ${result.stderr}`);
  return result.stdout;
}

const env = {
  PATH: process.env.PATH,
  POSTGRES_PASSWORD: 'pw',
  PUBLIC_BASE_URL: 'https://voice.example.com',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'token',
};

describe('docker-compose.yml', () => {
  const config = parse(composeConfig(env)) as { services: Record<string, Record<string, any>> };
  const services = config.services;

  it('is accepted by docker compose config and has the production services', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'grafana', 'migrate', 'postgres', 'prometheus', 'redis', 'worker']);
  });

  it('lets the worker scale: no container name, no host port', () => {
    expect(services.worker.container_name).toBeUndefined();
    expect(services.worker.ports).toBeUndefined();
    expect(services.api.container_name).toBeUndefined();
  });

  it('runs migrations once, before api and worker', () => {
    expect(services.migrate.command).toEqual(['npm', 'run', 'db:migrate']);
    for (const app of ['api', 'worker']) {
      expect(services[app].depends_on.migrate.condition).toBe('service_completed_successfully');
      expect(services[app].depends_on.postgres.condition).toBe('service_healthy');
      expect(services[app].depends_on.redis.condition).toBe('service_healthy');
    }
  });

  it('configures Redis for BullMQ (AOF everysec, noeviction) and health checks on the stores', () => {
    const command = services.redis.command.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--appendfsync everysec');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(services.redis.healthcheck.test).toBeDefined();
    expect(services.postgres.healthcheck.test).toBeDefined();
    expect(services.postgres.volumes[0]).toMatch(/postgres-data/);
  });

  it('refuses to start without secrets', () => {
    const { TWILIO_AUTH_TOKEN: _omit, ...withoutToken } = env;
    const result = compose(withoutToken);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/TWILIO_AUTH_TOKEN/);
  });

  it('builds with the same commands the README documents', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    for (const step of ['npm ci', 'npm run build', 'npm run db:migrate', 'npm run start:api', 'npm run start:worker']) {
      expect(dockerfile + JSON.stringify(services)).toContain(step.replace('npm run ', ''));
      expect(readme).toContain(step);
    }
  });
});
