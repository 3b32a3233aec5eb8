import { execFile, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { waitFor } from './support/harness.js';

const run = promisify(execFile);

/** Environment of a built app started as its own process (as in production). */
function env(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL,
    TWILIO_ACCOUNT_SID: process.env.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: process.env.TWILIO_AUTH_TOKEN,
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

async function exitOf(script: string, e: NodeJS.ProcessEnv) {
  try {
    // Run from elsewhere, so a developer's .env in the checkout cannot fill in the variable.
    await run('node', [resolve(script)], { env: { ...e, AGENTS_FILE: resolve('config/agents.json') }, cwd: tmpdir(), timeout: 20_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const failure = err as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

describe('the built apps', () => {
  it('refuse to start without TWILIO_AUTH_TOKEN, naming it', async () => {
    for (const script of ['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js']) {
      const result = await exitOf(script, env({ TWILIO_AUTH_TOKEN: undefined, PORT: '0', WORKER_PORT: '0' }));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/TWILIO_AUTH_TOKEN is required/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('name a malformed variable', async () => {
    const result = await exitOf('dist/apps/api/src/main.js', env({ PUBLIC_BASE_URL: 'not a url', REDIS_URL: 'http://x', PORT: '0' }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/PUBLIC_BASE_URL/);
    expect(result.stderr).toMatch(/REDIS_URL must be a redis:\/\//);
  });

  it('start, report ready with a worker, and shut down gracefully on SIGTERM', async () => {
    const port = String(30_000 + Math.floor(Math.random() * 20_000));
    const workerPort = String(Number(port) + 1);
    // From elsewhere too: a developer's .env (npm run dev writes development-only settings there) must not leak in.
    const options = { cwd: tmpdir(), stdio: 'ignore' as const };
    const agentsFile = resolve('config/agents.json');
    const worker = spawn('node', [resolve('dist/apps/worker/src/main.js')], { ...options, env: env({ WORKER_PORT: workerPort, AGENTS_FILE: agentsFile }) });
    const api = spawn('node', [resolve('dist/apps/api/src/main.js')], { ...options, env: env({ PORT: port, AGENTS_FILE: agentsFile }) });
    try {
      const body = await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return res.status === 200 && ((await res.json()) as { checks: Record<string, { status: string }> });
      }, 20_000, 200);
      expect(body.checks.worker.status).toBe('up');
      expect((await fetch(`http://127.0.0.1:${workerPort}/health`)).status).toBe(200);
    } finally {
      const exits = [api, worker].map(
        (child) => new Promise<string>((done) => child.once('exit', (code, signal) => done(signal ?? String(code)))),
      );
      api.kill('SIGTERM');
      worker.kill('SIGTERM');
      // Nest closes the app, then re-raises the signal: a clean exit is "SIGTERM" (or 0), not 1.
      const outcomes = await Promise.all(exits);
      for (const outcome of outcomes) expect(['SIGTERM', '0']).toContain(outcome);
    }
  });
});
