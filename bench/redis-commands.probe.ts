/**
 * npm run bench:webhooks:redis — which Redis commands one webhook costs: the built api (+ worker)
 * against the bench's Redis, `n` calls opened, then `n` gather turns; Redis's own command
 * statistics (INFO commandstats, reset before each phase) divided by the webhooks sent.
 * Deterministic (counts, not times): a regression shows as a new command per webhook.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '#libs/config';
import { RedisKeys } from '#libs/redis';
import { signTwilioRequest } from '#libs/telephony';
import { freePort, startProcess, stopProcess } from './support.js';

const config = loadConfig();
const N = Number(process.env.BENCH_REQUESTS ?? 2000);
const env = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...(process.env.BENCH_IN_API === '1' ? { AGENT_LOCAL_IN_API: 'true' } : {}) };

function post(url: string, path: string, body: Record<string, string>) {
  return fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL + path, body) },
    body: new URLSearchParams(body).toString(),
  }).then((r) => r.text());
}

async function stats(redis: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

async function phase(redis: Redis, name: string, run: () => Promise<void>): Promise<void> {
  await redis.config('RESETSTAT');
  await run();
  const s = await stats(redis);
  const rows = [...s].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((t, [, c]) => t + c, 0);
  console.log(`\n${name}: ${(total / N).toFixed(2)} Redis commands per webhook`);
  for (const [cmd, calls] of rows) if (calls / N >= 0.01) console.log(`  ${cmd.padEnd(22)} ${(calls / N).toFixed(2)}`);
}

async function main(): Promise<void> {
  const apiPort = freePort();
  const workerPort = apiPort + 2;
  const worker = await startProcess(['dist/apps/worker/src/main.js'], { ...env, WORKER_PORT: String(workerPort) }, `http://127.0.0.1:${workerPort}/health/ready`);
  const api = await startProcess(['dist/apps/api/src/main.js'], { ...env, PORT: String(apiPort) }, `http://127.0.0.1:${apiPort}/health/ready`);
  const redis = new Redis(config.REDIS_URL);
  const url = `http://127.0.0.1:${apiPort}`;
  const base = (sid: string) => ({ CallSid: sid, AccountSid: config.TWILIO_ACCOUNT_SID, From: '+15005550006', To: '+15005550001', CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01' });
  const sids = Array.from({ length: N }, () => `CA${randomBytes(16).toString('hex')}`);
  const drain = async () => {
    while ((await redis.xlen(RedisKeys.transcriptStream())) > 0) await new Promise((r) => setTimeout(r, 100));
  };
  const inBatches = async (fn: (sid: string) => Promise<unknown>) => {
    for (let i = 0; i < sids.length; i += 20) await Promise.all(sids.slice(i, i + 20).map(fn));
    await drain();
  };
  try {
    await phase(redis, 'POST /twilio/voice', () => inBatches((sid) => post(url, '/twilio/voice', base(sid))));
    await phase(redis, `POST /twilio/gather${env.AGENT_LOCAL_IN_API === 'true' ? ' (AGENT_LOCAL_IN_API)' : ''}`, () =>
      inBatches((sid) => post(url, '/twilio/gather?step=1', { ...base(sid), SpeechResult: 'I need help with my bill', Confidence: '0.93' })));
  } finally {
    redis.disconnect();
    await Promise.all([api, worker].map(stopProcess));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
