#!/usr/bin/env node
// npm run dev: local Postgres + Redis, migrations, a first build, then api, worker and a local
// stand-in of Twilio's REST API, with reload on change; prints where they are once they are ready.
// On the first run it writes .env.development (random dev secrets, local URLs). Not `.env`: docker
// compose reads a `.env` beside docker-compose.yml, and development secrets must never reach it.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

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
useTwilioStandIn(DEV_ENV);

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', env: process.env });
run('node', ['scripts/with-env.mjs', 'prisma', 'migrate', 'deploy']);
run('npm', ['run', 'prisma:generate']);
rmSync('dist', { recursive: true, force: true });

// The watcher's first build is the build: starting the apps only after it means no file of
// dist/ changes under them, so they start once and restart only when a source file changes.
const children = [];
const watcher = spawn('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'], { stdio: ['ignore', 'pipe', 'inherit'] });
children.push(watcher);
await new Promise((resolve) => {
  let buffered = '';
  watcher.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    buffered += chunk;
    if (/Watching for file changes/.test(buffered)) resolve();
  });
  watcher.on('exit', (code) => {
    console.error(`[dev] the TypeScript watcher exited (${code})`);
    process.exit(1);
  });
});

const apiPort = Number(process.env.PORT || 3000);
const workerPort = Number(process.env.WORKER_PORT || 3001);
if (process.env.TWILIO_API_BASE_URL && /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(process.env.TWILIO_API_BASE_URL)) {
  children.push(spawn('node_modules/.bin/tsx', ['--conditions=development', 'scripts/twilio-stand-in.ts'], { stdio: 'inherit' }));
}
children.push(spawn('node', ['--watch-path=dist', 'dist/apps/api/src/main.js'], { stdio: 'inherit' }));
children.push(spawn('node', ['--watch-path=dist', 'dist/apps/worker/src/main.js'], { stdio: 'inherit' }));
const stop = () => {
  for (const child of children) child.kill('SIGTERM');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const ready = await Promise.all([
  waitFor(`http://127.0.0.1:${apiPort}/health/ready`),
  waitFor(`http://127.0.0.1:${workerPort}/health`),
]);
const key = process.env.ADMIN_API_KEY ? '<ADMIN_API_KEY from .env>' : '<key from npm run cli -- apikey create>';
console.log(`
[dev] ${ready.every(Boolean) ? 'ready' : 'NOT ready after 90 s (see the logs above)'}
  api      http://localhost:${apiPort}   (health: /health/ready, API docs: http://localhost:${apiPort}/docs)
  worker   http://localhost:${workerPort}   (health: /health)
  twilio   ${process.env.TWILIO_API_BASE_URL || '(real Twilio REST API)'}
next, in another terminal:
  npm run call -- "I need help with my bill" "goodbye"           # a simulated call (--help for options)
  npm run call -- --mode stream "my internet is broken" "goodbye"
  npm run cli -- apikey create --name me --scope read
  curl -H "Authorization: Bearer ${key}" localhost:${apiPort}/admin/calls
`);

/** Polls a health URL until it answers 200 (true) or 90 s pass (false). */
async function waitFor(url) {
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; ) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

/**
 * Points the apps' Twilio REST client at the local stand-in unless the env file names another
 * origin: simulated calls then end as real ones do (hang-ups and transfers recorded, signed status
 * callbacks delivered). Written into the env file so the simulator finds the stand-in too.
 */
function useTwilioStandIn(envFile) {
  if (process.env.TWILIO_API_BASE_URL) return;
  const url = `http://127.0.0.1:${Number(process.env.PORT || 3000) + 2}`;
  const text = readFileSync(envFile, 'utf8');
  const line = `TWILIO_API_BASE_URL=${url}`;
  writeFileSync(envFile, /^TWILIO_API_BASE_URL=.*$/m.test(text) ? text.replace(/^TWILIO_API_BASE_URL=.*$/m, line) : `${text.trimEnd()}\n${line}\n`);
  process.env.TWILIO_API_BASE_URL = url;
  console.log(`[dev] ${envFile}: TWILIO_API_BASE_URL=${url} (a local stand-in of Twilio's REST API; set it to https://api.twilio.com to use Twilio's)`);
}
