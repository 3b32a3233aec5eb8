#!/usr/bin/env node
// npm run dev: local Postgres + Redis, migrations, then api and worker with reload on change.
// On the first run it writes .env.development (random dev secrets, local URLs). Not `.env`: docker
// compose reads a `.env` beside docker-compose.yml, and development secrets must never reach it.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const urls = Object.fromEntries(
  execFileSync('bash', ['scripts/services.sh', 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2)),
);

const DEV_ENV = '.env.development';
if (!existsSync(DEV_ENV)) {
  const template = readFileSync('.env.example', 'utf8');
  const values = {
    PUBLIC_BASE_URL: 'http://localhost:3000',
    TWILIO_ACCOUNT_SID: `AC${randomBytes(16).toString('hex')}`,
    TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex'),
    ADMIN_API_KEY: `sk_dev_${randomBytes(18).toString('base64url')}`,
    DATABASE_URL: urls.DATABASE_URL,
    REDIS_URL: urls.REDIS_URL,
  };
  const env = template.replace(/^([A-Z_]+)=.*$/gm, (line, name) => (name in values ? `${name}=${values[name]}` : line));
  writeFileSync(DEV_ENV, env, { mode: 0o600 });
  console.log(`[dev] wrote ${DEV_ENV} with local URLs and random development secrets (replace the Twilio ones with yours)`);
}
process.loadEnvFile(DEV_ENV);

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', env: process.env });
run('node', ['scripts/with-env.mjs', 'prisma', 'migrate', 'deploy']);
run('npm', ['run', 'build']);

const children = [
  spawn('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'], { stdio: 'inherit' }),
  spawn('node', ['--watch-path=dist', 'dist/apps/api/src/main.js'], { stdio: 'inherit' }),
  spawn('node', ['--watch-path=dist', 'dist/apps/worker/src/main.js'], { stdio: 'inherit' }),
];
const stop = () => {
  for (const child of children) child.kill('SIGTERM');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
