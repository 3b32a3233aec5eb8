import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { configSchema } from '#libs/config';

// A developer's .env must not fill in what these tests leave out: point compose at an empty one.
const emptyEnv = join(mkdtempSync(join(tmpdir(), 'compose-')), 'empty.env');
writeFileSync(emptyEnv, '');

/** `docker compose` (v2 plugin) where installed, else Debian's `docker-compose`: both validate the file. */
function compose(env: NodeJS.ProcessEnv, args: string[] = ['--env-file', emptyEnv, 'config'], cwd = process.cwd()) {
  const v2 = spawnSync('docker', ['compose', ...args], { env, encoding: 'utf8', cwd });
  if (!/unknown (command|flag)|is not a docker command/.test(v2.stderr ?? '') && v2.status !== null && !v2.error) return v2;
  return spawnSync('docker-compose', args, { env, encoding: 'utf8', cwd });
}

type Services = Record<string, Record<string, any>>;

function composeConfig(env: NodeJS.ProcessEnv, args?: string[], cwd?: string): { services: Services; text: string } {
  const result = compose(env, args, cwd);
  if (result.status !== 0) throw new Error(`docker compose config failed: ${result.stderr}`);
  return { services: (parse(result.stdout) as { services: Services }).services, text: result.stdout };
}

/** The variables the README's production section names: all an operator has to set. */
const production = {
  POSTGRES_PASSWORD: 'prod-db-password',
  PUBLIC_BASE_URL: 'https://voice.example.com',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'prod-auth-token-0123456789abcdef',
};
const env = { PATH: process.env.PATH, ...production };

/** Environment of a service as a name → value map (compose prints a map; v1 may print a list). */
function envOf(service: Record<string, any>): Record<string, string | null> {
  const e = service.environment ?? {};
  if (!Array.isArray(e)) return e;
  return Object.fromEntries(e.map((line: string) => line.split(/=(.*)/s).slice(0, 2)));
}

describe('docker-compose.yml', () => {
  const { services } = composeConfig(env);

  it('is accepted by docker compose config and has the production services', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'caddy', 'grafana', 'migrate', 'postgres', 'prometheus', 'redis', 'worker']);
  });

  it('passes every variable of the config schema to api and worker (one shared block)', () => {
    const names = Object.keys(configSchema.shape);
    expect(names.length).toBeGreaterThan(30);
    for (const app of ['api', 'worker']) {
      const missing = names.filter((name) => !(name in envOf(services[app])));
      expect({ app, missing }).toEqual({ app, missing: [] });
    }
    // The settings the issue found missing reach the containers when set.
    const set = { ...env, AI_PROVIDER: 'openai', OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_MODEL: 'gpt-x', OPENAI_API_KEY: 'sk-x', TRUST_PROXY: 'true', DEFAULT_CALL_MODE: 'relay', MEDIA_END_OF_TURN_MS: '700' };
    const api = envOf(composeConfig(set).services.api);
    expect(api).toMatchObject({ AI_PROVIDER: 'openai', OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_MODEL: 'gpt-x', OPENAI_API_KEY: 'sk-x', TRUST_PROXY: 'true', DEFAULT_CALL_MODE: 'relay', MEDIA_END_OF_TURN_MS: '700' });
  });

  it('resolves none of the development settings in a checkout where npm run dev has written them', () => {
    // npm run dev writes its settings to .env.development, never to the .env compose reads.
    const dev = readFileSync('scripts/dev.mjs', 'utf8');
    expect(dev).toMatch(/const DEV_ENV = '\.env\.development'/);
    expect(dev).toMatch(/writeFileSync\(DEV_ENV,/);
    expect(dev).not.toMatch(/writeFileSync\('\.env'/);

    // A checkout after `npm run dev`: the compose files plus the development settings beside them.
    const checkout = mkdtempSync(join(tmpdir(), 'checkout-'));
    mkdirSync(join(checkout, 'deploy'));
    copyFileSync('docker-compose.yml', join(checkout, 'docker-compose.yml'));
    copyFileSync('deploy/Caddyfile', join(checkout, 'deploy/Caddyfile'));
    const devValues = {
      PUBLIC_BASE_URL: 'http://localhost:3000',
      TWILIO_ACCOUNT_SID: 'ACdddddddddddddddddddddddddddddddd',
      TWILIO_AUTH_TOKEN: 'devtokendevtokendevtokendevtoken',
      ADMIN_API_KEY: 'sk_dev_developmentadminkey0123456789',
      DATABASE_URL: 'postgresql://switchboard:switchboard@127.0.0.1:54999/switchboard',
      REDIS_URL: 'redis://127.0.0.1:63999',
    };
    const template = readFileSync('.env.example', 'utf8');
    writeFileSync(
      join(checkout, '.env.development'),
      template.replace(/^([A-Z_]+)=.*$/gm, (line, name: string) => (name in devValues ? `${name}=${devValues[name as keyof typeof devValues]}` : line)),
    );

    // No --env-file: exactly what an operator types in that checkout.
    const { services: resolved, text } = composeConfig(env, ['config'], checkout);
    for (const value of Object.values(devValues)) expect(text).not.toContain(value);
    const api = envOf(resolved.api);
    expect(api.PUBLIC_BASE_URL).toBe(production.PUBLIC_BASE_URL);
    expect(api.TWILIO_AUTH_TOKEN).toBe(production.TWILIO_AUTH_TOKEN);
    expect(api.ADMIN_API_KEY ?? '').toBe('');
    expect(api.REDIS_URL).toBe('redis://redis:6379');

    // And without the production variables, the guards fire instead of falling back on dev ones.
    const bare = compose({ PATH: process.env.PATH }, ['config'], checkout);
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/PUBLIC_BASE_URL|POSTGRES_PASSWORD|TWILIO/);

    // An explicit production env file works the same way.
    const prodFile = join(checkout, 'production.env');
    writeFileSync(prodFile, Object.entries(production).map(([k, v]) => `${k}=${v}`).join('\n') + '\nAI_PROVIDER=local\n');
    const fromFile = envOf(composeConfig({ PATH: process.env.PATH }, ['--env-file', prodFile, 'config'], checkout).services.worker);
    expect(fromFile.TWILIO_ACCOUNT_SID).toBe(production.TWILIO_ACCOUNT_SID);
    expect(fromFile.AI_PROVIDER).toBe('local');
  });

  it('runs two or more api replicas behind the TLS proxy: no container name, no host port', () => {
    for (const app of ['api', 'worker']) {
      expect(services[app].container_name).toBeUndefined();
      expect(services[app].ports).toBeUndefined();
    }
    expect(services.api.deploy.replicas).toBeGreaterThanOrEqual(2);
    const published = (services.caddy.ports as Array<{ published: number | string; target: number } | string>).map((p) => (typeof p === 'string' ? p : `${p.published}:${p.target}`));
    expect(published).toEqual(expect.arrayContaining([expect.stringMatching(/^443:443/), expect.stringMatching(/^80:80/)]));
    expect(envOf(services.caddy).PUBLIC_BASE_URL).toBe(production.PUBLIC_BASE_URL);
    expect(JSON.stringify(services.caddy.volumes)).toContain('Caddyfile');
  });

  it('has a Caddyfile that Caddy accepts, for compose, a certificate of your own and the loopback test', () => {
    const caddy = spawnSync('caddy', ['version'], { encoding: 'utf8' });
    if (caddy.error) throw new Error('caddy is not installed (apt-get install caddy; .ci/run installs it)');
    const validate = (extra: Record<string, string>) =>
      spawnSync('caddy', ['adapt', '--config', 'deploy/Caddyfile', '--adapter', 'caddyfile'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, PUBLIC_BASE_URL: production.PUBLIC_BASE_URL, ...extra },
      });
    const auto = validate({});
    expect(auto.status).toBe(0);
    const json = JSON.parse(auto.stdout);
    const route = JSON.stringify(json.apps.http.servers);
    expect(route).toContain('voice.example.com');
    expect(route).toContain('"dynamic_upstreams"');
    expect(route).not.toMatch(/rate_limit|basicauth|authentication/);
    expect(validate({ CADDY_TLS: 'files' }).stdout).toContain('/certs/cert.pem');
    expect(validate({ CADDY_TLS: 'internal', CADDY_UPSTREAMS: 'static', API_UPSTREAMS: '127.0.0.1:4001 127.0.0.1:4002' }).stdout).toContain('127.0.0.1:4002');
  });

  it('runs migrations once, before api and worker', () => {
    expect(services.migrate.command).toEqual(['npm', 'run', 'db:migrate']);
    for (const app of ['api', 'worker']) {
      expect(services[app].depends_on.migrate.condition).toBe('service_completed_successfully');
      expect(services[app].depends_on.postgres.condition).toBe('service_healthy');
      expect(services[app].depends_on.redis.condition).toBe('service_healthy');
    }
    expect(envOf(services.migrate).DATABASE_URL).toBe(envOf(services.api).DATABASE_URL);
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

  it('keeps dependencies, local data and secrets out of the build context', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', '.data', '.env', '.env.*', 'dist']) expect(ignored).toContain(entry);
    expect(ignored).toContain('!.env.example');
  });

  it('builds with the same commands the README documents, and ships the operator CLI', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    for (const step of ['npm ci', 'npm run build', 'npm run db:migrate', 'npm run start:api', 'npm run start:worker']) {
      expect(dockerfile + JSON.stringify(services)).toContain(step.replace('npm run ', ''));
      expect(readme).toContain(step);
    }
    // npm run cli in the image runs dist/scripts/cli.js (no tsx there); test/twilio-numbers runs that build.
    expect(dockerfile).toContain('scripts/cli.mjs');
    expect(readFileSync('tsconfig.build.json', 'utf8')).toContain('scripts/cli.ts');
    expect(readme).toContain('docker compose run --rm api npm run cli -- apikey create');
  });
});
