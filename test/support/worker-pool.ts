import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisKeys } from '#libs/redis';

const WORKER_MAIN = 'dist/apps/worker/src/main.js';

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Worker processes run the built output, as in production. `npm test` builds first; when the
 * build is missing or older than the sources (a direct `npx jest`), build it here. Type errors
 * elsewhere in the tree do not stop tsc from emitting, so only a missing entry point fails.
 */
export function ensureBuilt(): void {
  const built = existsSync(WORKER_MAIN) ? statSync(WORKER_MAIN).mtimeMs : 0;
  if (built > Math.max(newestSource('apps'), newestSource('libs'))) return;
  spawnSync('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json'], { stdio: 'ignore' });
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} missing: run npm run build`);
}

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  /** The worker's id in heartbeats and job results (hostname-pid). */
  pid: number;
  output: string[];
  exited: Promise<number | null>;
}

/** Starts `node dist/apps/worker/src/main.js` with a clean environment plus `env`; resolves once it heartbeats. */
export async function spawnWorker(name: string, env: Record<string, string>, redisUrl: string, nodeArgs: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, WORKER_MAIN], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', WORKER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // 'close' comes after the output streams ended: the whole error message is there.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const worker: WorkerProcess = { name, child, pid: child.pid!, output, exited };
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ids = await redis.zrange(RedisKeys.workerHeartbeats(), 0, -1);
      if (ids.some((id) => id.endsWith(`-${child.pid}`))) return worker;
      if (child.exitCode !== null) {
        await closed;
        throw new Error(`worker ${name} exited with ${child.exitCode}: ${output.join('').trim()}`);
      }
      if (Date.now() > deadline) throw new Error(`worker ${name} did not start: ${output.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
}

/** Graceful stop (SIGTERM), then SIGKILL if it lingers. */
export async function stopWorker(worker: WorkerProcess, graceMs = 5000): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), graceMs);
  await worker.exited;
  clearTimeout(timer);
}
