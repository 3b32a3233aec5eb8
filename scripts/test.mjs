#!/usr/bin/env node
// npm test: start Postgres + Redis (scripts/services.sh), migrate a test database, fail on schema
// changes without a migration, build the apps (some tests run the built processes), run Jest.
import { execFileSync, spawnSync } from 'node:child_process';

const sh = (cmd, args, env = process.env) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env });
const step = (name) => console.log(`\n[test] ${name}`);

step('services');
const urls = Object.fromEntries(sh('bash', ['scripts/services.sh', 'up']).trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));

// Tests never touch the development database or Redis db 0.
const testDb = new URL(urls.DATABASE_URL);
const mainDb = testDb.pathname.slice(1);
testDb.pathname = `/${mainDb.endsWith('_test') ? mainDb : `${mainDb}_test`}`;
const testRedis = new URL(urls.REDIS_URL);
testRedis.pathname = '/1';
const exists = sh('psql', [urls.DATABASE_URL, '-Atqc', `select 1 from pg_database where datname = '${testDb.pathname.slice(1)}'`]).trim();
if (!exists) sh('psql', [urls.DATABASE_URL, '-qc', `create database "${testDb.pathname.slice(1)}"`]);

const env = { ...process.env, DATABASE_URL: testDb.toString(), CHECKPOINT_DISABLE: '1' };
step('migrate test database');
sh('node_modules/.bin/prisma', ['migrate', 'deploy'], env);

step('schema drift (prisma/schema.prisma vs prisma/migrations)');
const drift = spawnSync('node_modules/.bin/prisma', ['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema-datamodel', 'prisma/schema.prisma', '--script', '--exit-code'], { env, encoding: 'utf8' });
if (drift.status !== 0) {
  console.error(drift.stdout, drift.stderr);
  console.error('[test] prisma/schema.prisma has changes without a migration (status %s). Add one under prisma/migrations.', drift.status);
  process.exit(1);
}

step('build');
execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });

// npm run test:cluster (--cluster): the multi-process suites under test/cluster only.
const cluster = process.argv.includes('--cluster');
const jestArgs = cluster ? ['--selectProjects', 'cluster', '--forceExit', ...process.argv.slice(2).filter((a) => a !== '--cluster')] : process.argv.slice(2);
step(cluster ? 'jest (cluster)' : 'jest');
const jest = spawnSync('node_modules/.bin/jest', ['--runInBand', ...jestArgs], {
  stdio: 'inherit',
  env: {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim(),
    TEST_DATABASE_URL: testDb.toString(),
    TEST_REDIS_URL: testRedis.toString(),
    TEST_MAIN_REDIS_URL: urls.REDIS_URL,
    ...(cluster ? { TEST_CLUSTER: '1' } : {}),
  },
});
process.exit(jest.status ?? 1);
